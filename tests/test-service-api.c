#include "config.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "sl-daemon-fixture.h"
#include "sl-test-cli.h"
#include "sl-test-utils.h"

/*
 * Service authoring through the real daemon: creating and deleting services, the files
 * API with its order of checks, hostile paths (nothing outside the service folder may be
 * read or written), concurrent writes, and the same through stdiolinkctl.
 */

static const char *sleeper_schema =
    "{\"sleepMs\":{\"type\":\"int\",\"default\":0},"
    "\"stdout\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}}";

static JsonObject *
object_of(JsonNode *node)
{
	g_assert_nonnull(node);
	g_assert_true(JSON_NODE_HOLDS_OBJECT(node));
	return json_node_get_object(node);
}

/* a request that must answer @expected; returns the body */
static JsonNode *
call(SlDaemonFixture *fx, const char *method, const char *path, const char *body, guint expected)
{
	guint status = 0;
	JsonNode *node = sl_daemon_fixture_request(fx, method, path, body, &status);

	if (status != expected) {
		g_autofree char *text = node != NULL ? stdiolink_json_to_string(
						       node, STDIOLINK_JSON_COMPACT)
						 : g_strdup("");

		g_error("%s %s: status %u, expected %u: %s", method, path, status, expected, text);
	}
	return node;
}

static void
call_fails(SlDaemonFixture *fx,
	   const char *method,
	   const char *path,
	   const char *body,
	   guint expected,
	   const char *code,
	   const char *message)
{
	g_autoptr(JsonNode) node = call(fx, method, path, body, expected);

	sl_daemon_fixture_assert_error(node, code, message);
}

/* `/api/services/<id>/files/content?path=<path escaped>` */
static char *
content_url(const char *id, const char *path)
{
	g_autofree char *escaped = g_uri_escape_string(path, NULL, FALSE);

	return g_strdup_printf("/api/services/%s/files/content?path=%s", id, escaped);
}

static char *
content_body(const char *content)
{
	g_autoptr(JsonObject) body = json_object_new();

	json_object_set_string_member(body, "content", content);
	return stdiolink_json_object_to_string(body, STDIOLINK_JSON_COMPACT);
}

static char *
read_content(SlDaemonFixture *fx, const char *id, const char *path)
{
	g_autofree char *url = content_url(id, path);
	g_autoptr(JsonNode) node = call(fx, "GET", url, NULL, 200);

	return g_strdup(json_object_get_string_member(object_of(node), "content"));
}

static void
write_content(SlDaemonFixture *fx, const char *id, const char *path, const char *content)
{
	g_autofree char *url = content_url(id, path);
	g_autofree char *body = content_body(content);
	g_autoptr(JsonNode) node = call(fx, "PUT", url, body, 200);

	g_assert_true(json_object_get_boolean_member(object_of(node), "updated"));
}

static void
create_demo(SlDaemonFixture *fx, const char *template_name)
{
	g_autofree char *body = g_strdup_printf(
	    "{\"id\":\"demo\",\"name\":\"Demo\",\"version\":\"1.0\",\"template\":\"%s\"}",
	    template_name);
	g_autoptr(JsonNode) node = call(fx, "POST", "/api/services", body, 201);

	g_assert_cmpstr(json_object_get_string_member(object_of(node), "id"), ==, "demo");
}

/* ---- create ---------------------------------------------------------------------------- */

static void
test_create_func(void)
{
	static const struct {
		const char *body;
		const char *message;
	} bad[] = {
		{"{}", "missing required string field: id"},
		{"{\"id\":\"x\",\"version\":\"1\"}", "missing required string field: name"},
		{"{\"id\":\"x\",\"name\":\"X\"}", "missing required string field: version"},
		{"{\"id\":\"x\",\"name\":\"X\",\"version\":\"1\",\"template\":\"nope\"}",
		 "invalid template: must be 'empty', 'basic', 'driver_demo', or 'exec'"},
		{"{\"id\":\"x\",\"name\":\"X\",\"version\":\"1\",\"indexJs\":[]}",
		 "field 'indexJs' must be a string"},
		{"{\"id\":\"x\",\"name\":\"X\",\"version\":\"1\",\"configSchema\":\"{}\"}",
		 "field 'configSchema' must be an object"},
		{"{\"id\":\"x/y\",\"name\":\"X\",\"version\":\"1\"}", "invalid service id"},
		{"{\"id\":\"..\",\"name\":\"X\",\"version\":\"1\"}", "invalid service id"},
		{"{\"id\":\"x\",\"name\":\"X\",\"version\":\"1\","
		 "\"configSchema\":{\"a\":{\"type\":\"whatever\"}}}",
		 NULL},
	};
	SlDaemonFixture fx;
	g_autoptr(JsonNode) created = NULL;
	g_autoptr(JsonNode) list = NULL;
	g_autoptr(JsonNode) detail = NULL;
	g_autofree char *dir = NULL;
	g_autofree char *handmade = NULL;
	JsonObject *root;
	JsonObject *service;

	sl_daemon_fixture_init(&fx);
	sl_daemon_fixture_start(&fx);

	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(JsonNode) node = call(&fx, "POST", "/api/services", bad[i].body, 400);

		sl_daemon_fixture_assert_error(node, "bad_request", bad[i].message);
		if (bad[i].message == NULL)
			g_assert_true(g_str_has_prefix(
			    json_object_get_string_member(object_of(node), "error"),
			    "invalid configSchema: "));
	}
	call_fails(&fx, "POST", "/api/services", "[1]", 400, "bad_request",
		   "request body must be a JSON object");

	created = call(&fx, "POST", "/api/services",
		       "{\"id\":\"demo\",\"name\":\"Demo\",\"version\":\"1.0\","
		       "\"template\":\"basic\",\"description\":\"d\"}",
		       201);
	root = object_of(created);
	dir = g_build_filename(fx.root, "services", "demo", NULL);
	g_assert_cmpstr(json_object_get_string_member(root, "serviceDir"), ==, dir);
	g_assert_true(json_object_get_boolean_member(root, "hasSchema"));
	g_assert_true(json_object_get_boolean_member(root, "created"));
	g_assert_cmpstr(json_object_get_string_member(root, "version"), ==, "1.0");
	g_assert_cmpuint(json_object_get_size(root), ==, 6);

	/* it is loaded at once, with the template's schema */
	list = call(&fx, "GET", "/api/services", NULL, 200);
	service = json_array_get_object_element(
	    json_object_get_array_member(object_of(list), "services"), 0);
	g_assert_cmpstr(json_object_get_string_member(service, "id"), ==, "demo");
	detail = call(&fx, "GET", "/api/services/demo", NULL, 200);
	g_assert_true(json_object_has_member(
	    json_object_get_object_member(object_of(detail), "configSchema"), "name"));
	g_assert_cmpstr(json_object_get_string_member(
			    json_object_get_object_member(object_of(detail), "manifest"),
			    "description"),
			==, "d");

	call_fails(&fx, "POST", "/api/services",
		   "{\"id\":\"demo\",\"name\":\"Again\",\"version\":\"2\"}", 409, "conflict",
		   "service already exists");

	/* a folder that is not a loaded service still blocks the name */
	handmade = sl_test_make_dir(fx.root, "services/handmade");
	call_fails(&fx, "POST", "/api/services",
		   "{\"id\":\"handmade\",\"name\":\"H\",\"version\":\"1\"}", 409, "conflict",
		   "service directory already exists");
	sl_daemon_fixture_clear(&fx);
}

/* ---- delete ---------------------------------------------------------------------------- */

static gboolean
no_instances_cb(SlDaemonFixture *fx, gpointer data)
{
	return sl_daemon_fixture_count_instances(fx, data) == 0;
}

static void
test_delete_func(void)
{
	SlDaemonFixture fx;
	g_autoptr(JsonNode) refused = NULL;
	g_autoptr(JsonNode) started = NULL;
	g_autoptr(JsonNode) project = NULL;
	g_autofree char *dir = NULL;
	g_autofree char *project_file = NULL;
	JsonArray *associated;
	JsonObject *root;

	sl_daemon_fixture_init(&fx);
	sl_daemon_fixture_add_test_service(&fx, "svc", sleeper_schema);
	sl_daemon_fixture_add_project(&fx, "p2", "svc", NULL, "{\"sleepMs\":60000}");
	sl_daemon_fixture_add_project(&fx, "p1", "svc", NULL, "{}");
	sl_daemon_fixture_start(&fx);
	started = call(&fx, "POST", "/api/projects/p2/start", NULL, 202);

	call_fails(&fx, "DELETE", "/api/services/nope", NULL, 404, "not_found",
		   "service not found");
	refused = call(&fx, "DELETE", "/api/services/svc", NULL, 409);
	sl_daemon_fixture_assert_error(refused, "conflict",
				       "service has associated projects: p1, p2");
	associated = json_object_get_array_member(object_of(refused), "associatedProjects");
	g_assert_cmpuint(json_array_get_length(associated), ==, 2);
	g_assert_cmpstr(json_array_get_string_element(associated, 0), ==, "p1");
	g_assert_cmpstr(json_array_get_string_element(associated, 1), ==, "p2");

	/* only the exact value `true` forces */
	call_fails(&fx, "DELETE", "/api/services/svc?force=1", NULL, 409, "conflict", NULL);
	call_fails(&fx, "DELETE", "/api/services/svc?force=TRUE", NULL, 409, "conflict", NULL);
	g_assert_cmpuint(sl_daemon_fixture_count_instances(&fx, "p2"), ==, 1);

	g_assert_null(call(&fx, "DELETE", "/api/services/svc?force=true", NULL, 204));
	call_fails(&fx, "GET", "/api/services/svc", NULL, 404, "not_found", "service not found");
	dir = g_build_filename(fx.root, "services", "svc", NULL);
	g_assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));

	/* its projects are invalid with the reason, stopped, and their files untouched */
	project = call(&fx, "GET", "/api/projects/p2", NULL, 200);
	root = object_of(project);
	g_assert_false(json_object_get_boolean_member(root, "valid"));
	g_assert_cmpstr(json_object_get_string_member(root, "status"), ==, "invalid");
	g_assert_cmpstr(json_object_get_string_member(root, "error"), ==,
			"service 'svc' has been deleted");
	g_assert_true(sl_daemon_fixture_wait(&fx, no_instances_cb, "p2"));
	project_file = g_build_filename(fx.root, "projects", "p1", "config.json", NULL);
	g_assert_true(g_file_test(project_file, G_FILE_TEST_IS_REGULAR));
	call_fails(&fx, "POST", "/api/projects/p1/start", NULL, 400, "bad_request",
		   "project invalid: service 'svc' has been deleted");

	/* a service nobody uses goes without force */
	create_demo(&fx, "empty");
	g_assert_null(call(&fx, "DELETE", "/api/services/demo", NULL, 204));
	call_fails(&fx, "DELETE", "/api/services/demo", NULL, 404, "not_found",
		   "service not found");
	sl_daemon_fixture_clear(&fx);
}

/* ---- the files API --------------------------------------------------------------------- */

static void
test_files_read_func(void)
{
	SlDaemonFixture fx;
	g_autoptr(JsonNode) list = NULL;
	g_autoptr(JsonNode) file = NULL;
	g_autofree char *big = g_strnfill(1024 * 1024 + 1, 'b');
	g_autofree char *dir = NULL;
	JsonArray *files;
	JsonObject *root;

	sl_daemon_fixture_init(&fx);
	sl_daemon_fixture_start(&fx);
	create_demo(&fx, "basic");
	dir = g_build_filename(fx.root, "services", "demo", NULL);
	sl_test_write_file(dir, "docs/readme.md", "# hi", 0644);
	sl_test_write_file(dir, ".secret", "hidden", 0644);
	sl_test_write_file(dir, "big.txt", big, 0644);

	call_fails(&fx, "GET", "/api/services/nope/files", NULL, 404, "not_found",
		   "service not found");
	list = call(&fx, "GET", "/api/services/demo/files", NULL, 200);
	root = object_of(list);
	g_assert_cmpstr(json_object_get_string_member(root, "serviceId"), ==, "demo");
	g_assert_cmpstr(json_object_get_string_member(root, "serviceDir"), ==, dir);
	files = json_object_get_array_member(root, "files");
	g_assert_cmpuint(json_array_get_length(files), ==, 5);
	g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(files, 1),
						      "path"), ==, "config.schema.json");
	g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(files, 2),
						      "path"), ==, "docs/readme.md");

	/* the order of the checks: service, path given, path safe, file */
	call_fails(&fx, "GET", "/api/services/nope/files/content", NULL, 404, "not_found",
		   "service not found");
	call_fails(&fx, "GET", "/api/services/demo/files/content", NULL, 400, "bad_request",
		   "missing 'path' query parameter");
	call_fails(&fx, "GET", "/api/services/demo/files/content?path=", NULL, 400,
		   "bad_request", "missing 'path' query parameter");
	call_fails(&fx, "GET", "/api/services/demo/files/content?path=../x", NULL, 400,
		   "bad_request", "path rejected: unsafe or invalid");
	call_fails(&fx, "GET", "/api/services/demo/files/content?path=nope.txt", NULL, 404,
		   "not_found", "file not found");
	call_fails(&fx, "GET", "/api/services/demo/files/content?path=docs", NULL, 404,
		   "not_found", "file not found");
	call_fails(&fx, "GET", "/api/services/demo/files/content?path=big.txt", NULL, 413,
		   "payload_too_large", "file too large (max 1MB)");

	/* query values are decoded fully: %2F is a separator */
	file = call(&fx, "GET", "/api/services/demo/files/content?path=docs%2Freadme.md", NULL,
		    200);
	root = object_of(file);
	g_assert_cmpstr(json_object_get_string_member(root, "path"), ==, "docs/readme.md");
	g_assert_cmpstr(json_object_get_string_member(root, "content"), ==, "# hi");
	g_assert_cmpint(json_object_get_int_member(root, "size"), ==, 4);
	g_assert_true(json_object_has_member(root, "modifiedAt"));
	sl_daemon_fixture_clear(&fx);
}

static void
test_files_write_func(void)
{
	SlDaemonFixture fx;
	g_autoptr(JsonNode) written = NULL;
	g_autoptr(JsonNode) detail = NULL;
	g_autoptr(JsonNode) kept = NULL;
	g_autofree char *huge = NULL;
	g_autofree char *text = NULL;
	JsonObject *root;

	sl_daemon_fixture_init(&fx);
	sl_daemon_fixture_start(&fx);
	create_demo(&fx, "empty");

	/* a missing target is reported before the body is looked at */
	call_fails(&fx, "PUT", "/api/services/demo/files/content?path=nope.txt", "{", 404,
		   "not_found", "file not found");
	call_fails(&fx, "PUT", "/api/services/demo/files/content?path=/abs", "{", 400,
		   "bad_request", "path rejected: unsafe or invalid");
	call_fails(&fx, "PUT", "/api/services/demo/files/content?path=index.js", "{", 400,
		   "bad_request", "request body must be a JSON object");
	call_fails(&fx, "PUT", "/api/services/demo/files/content?path=index.js", "", 400,
		   "bad_request", "missing required string field: content");
	call_fails(&fx, "PUT", "/api/services/demo/files/content?path=index.js",
		   "{\"content\":1}", 400, "bad_request",
		   "missing required string field: content");

	written = call(&fx, "PUT", "/api/services/demo/files/content?path=index.js",
		       "{\"content\":\"// new\\n\"}", 200);
	root = object_of(written);
	g_assert_cmpstr(json_object_get_string_member(root, "path"), ==, "index.js");
	g_assert_cmpint(json_object_get_int_member(root, "size"), ==, 7);
	g_assert_true(json_object_get_boolean_member(root, "updated"));
	text = read_content(&fx, "demo", "index.js");
	g_assert_cmpstr(text, ==, "// new\n");

	/* manifest.json: checked, then the service is reloaded */
	call_fails(&fx, "PUT", "/api/services/demo/files/content?path=manifest.json",
		   "{\"content\":\"[]\"}", 400, "bad_request",
		   "manifest.json must be valid JSON object");
	call_fails(&fx, "PUT", "/api/services/demo/files/content?path=./manifest.json",
		   "{\"content\":\"{\\\"manifestVersion\\\":\\\"1\\\"}\"}", 400, "bad_request",
		   "invalid manifest: missing required field: id");
	write_content(&fx, "demo", "manifest.json",
		      "{\"manifestVersion\":\"1\",\"id\":\"demo\",\"name\":\"Renamed\","
		      "\"version\":\"2.0\"}");
	detail = call(&fx, "GET", "/api/services/demo", NULL, 200);
	g_assert_cmpstr(json_object_get_string_member(object_of(detail), "name"), ==, "Renamed");
	g_assert_cmpstr(json_object_get_string_member(object_of(detail), "version"), ==, "2.0");
	g_clear_pointer(&detail, json_node_unref);

	/* config.schema.json: must be an object; a schema that does not load stays written */
	call_fails(&fx, "PUT", "/api/services/demo/files/content?path=config.schema.json",
		   "{\"content\":\"7\"}", 400, "bad_request",
		   "config.schema.json must be valid JSON object");
	write_content(&fx, "demo", "config.schema.json", "{\"port\":{\"type\":\"int\"}}");
	detail = call(&fx, "GET", "/api/services/demo", NULL, 200);
	g_assert_true(json_object_has_member(
	    json_object_get_object_member(object_of(detail), "configSchema"), "port"));
	kept = call(&fx, "PUT", "/api/services/demo/files/content?path=config.schema.json",
		    "{\"content\":\"{\\\"x\\\":{\\\"type\\\":\\\"bogus\\\"}}\"}", 500);
	g_assert_true(g_str_has_prefix(json_object_get_string_member(object_of(kept), "error"),
				       "file written but reload failed: failed to reload "
				       "service: "));
	g_free(text);
	text = read_content(&fx, "demo", "config.schema.json");
	g_assert_nonnull(strstr(text, "bogus"));
	g_clear_pointer(&detail, json_node_unref);
	detail = call(&fx, "GET", "/api/services/demo", NULL, 200);
	g_assert_true(json_object_has_member(
	    json_object_get_object_member(object_of(detail), "configSchema"), "port"));

	/* a body over 1 MiB is refused before it is read */
	huge = g_strnfill(1024 * 1024 + 16, 'h');
	huge[0] = '"';
	call_fails(&fx, "PUT", "/api/services/demo/files/content?path=index.js", huge, 413,
		   "payload_too_large", "request body too large (limit 1MB)");
	sl_daemon_fixture_clear(&fx);
}

static void
test_files_create_delete_func(void)
{
	SlDaemonFixture fx;
	g_autoptr(JsonNode) created = NULL;
	g_autoptr(JsonNode) empty = NULL;
	g_autofree char *text = NULL;
	g_autofree char *path = NULL;
	JsonObject *root;

	sl_daemon_fixture_init(&fx);
	sl_daemon_fixture_start(&fx);
	create_demo(&fx, "empty");

	created = call(&fx, "POST", "/api/services/demo/files/content?path=lib%2Futil.js",
		       "{\"content\":\"export {};\"}", 201);
	root = object_of(created);
	g_assert_cmpstr(json_object_get_string_member(root, "path"), ==, "lib/util.js");
	g_assert_cmpint(json_object_get_int_member(root, "size"), ==, 10);
	g_assert_true(json_object_get_boolean_member(root, "created"));
	text = read_content(&fx, "demo", "lib/util.js");
	g_assert_cmpstr(text, ==, "export {};");

	/* no content is an empty file; `+` is a space */
	empty = call(&fx, "POST", "/api/services/demo/files/content?path=notes+today.md", NULL,
		     201);
	g_assert_cmpint(json_object_get_int_member(object_of(empty), "size"), ==, 0);
	path = g_build_filename(fx.root, "services", "demo", "notes today.md", NULL);
	g_assert_true(g_file_test(path, G_FILE_TEST_IS_REGULAR));

	/* an existing target is reported before the body */
	call_fails(&fx, "POST", "/api/services/demo/files/content?path=lib/util.js", "{", 409,
		   "conflict", "file already exists");
	call_fails(&fx, "POST", "/api/services/demo/files/content?path=lib", NULL, 409,
		   "conflict", "file already exists");
	call_fails(&fx, "POST", "/api/services/demo/files/content?path=new.txt", "[]", 400,
		   "bad_request", "request body must be a JSON object");
	call_fails(&fx, "POST", "/api/services/demo/files/content?path=index.js/x", NULL, 400,
		   "bad_request", "path rejected: unsafe or invalid");

	/* delete: core files first, then safety, then existence */
	call_fails(&fx, "DELETE", "/api/services/demo/files/content?path=index.js", NULL, 400,
		   "bad_request", "cannot delete core file: index.js");
	call_fails(&fx, "DELETE", "/api/services/demo/files/content?path=manifest.json", NULL,
		   400, "bad_request", "cannot delete core file: manifest.json");
	call_fails(&fx, "DELETE", "/api/services/demo/files/content?path=.%2Fconfig.schema.json",
		   NULL, 400, "bad_request", "cannot delete core file: ./config.schema.json");
	call_fails(&fx, "DELETE", "/api/services/demo/files/content", NULL, 400, "bad_request",
		   "missing 'path' query parameter");
	call_fails(&fx, "DELETE", "/api/services/demo/files/content?path=..", NULL, 400,
		   "bad_request", "path rejected: unsafe or invalid");
	call_fails(&fx, "DELETE", "/api/services/demo/files/content?path=gone.txt", NULL, 404,
		   "not_found", "file not found");
	call_fails(&fx, "DELETE", "/api/services/demo/files/content?path=lib", NULL, 500,
		   "internal", "failed to delete file");
	g_assert_null(call(&fx, "DELETE", "/api/services/demo/files/content?path=lib/util.js",
			   NULL, 204));
	call_fails(&fx, "GET", "/api/services/demo/files/content?path=lib/util.js", NULL, 404,
		   "not_found", "file not found");
	sl_daemon_fixture_clear(&fx);
}

/* ---- hostile paths ------------------------------------------------------------------- */

/* every entry below @dir, links not followed, as "path type detail" */
static void
snapshot_into(const char *dir, const char *prefix, GPtrArray *out)
{
	g_autoptr(GDir) handle = g_dir_open(dir, 0, NULL);
	const char *name;

	g_assert_nonnull(handle);
	while ((name = g_dir_read_name(handle)) != NULL) {
		g_autofree char *path = g_build_filename(dir, name, NULL);
		g_autofree char *relative = g_build_filename(prefix, name, NULL);
		GStatBuf st;

		/* the daemon's own log files change as it answers */
		if (g_str_equal(relative, "logs"))
			continue;
		g_assert_cmpint(g_lstat(path, &st), ==, 0);
		if (S_ISLNK(st.st_mode)) {
			g_autofree char *target = g_file_read_link(path, NULL);

			g_ptr_array_add(out, g_strdup_printf("%s -> %s", relative, target));
		} else if (S_ISDIR(st.st_mode)) {
			g_ptr_array_add(out, g_strdup_printf("%s/ %o", relative, st.st_mode));
			snapshot_into(path, relative, out);
		} else {
			g_autofree char *text = sl_test_read_file(path);

			g_ptr_array_add(out, g_strdup_printf("%s %o %" G_GINT64_FORMAT " %s",
							     relative, st.st_mode,
							     (gint64)st.st_mtime, text));
		}
	}
}

static char *
snapshot(const char *dir)
{
	g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);

	snapshot_into(dir, "", lines);
	stdiolink_sort_strings(lines);
	g_ptr_array_add(lines, NULL);
	return g_strjoinv("\n", (char **)lines->pdata);
}

/* `path` query values exactly as sent on the wire */
static const char *const hostile_queries[] = {
	/* absolute */
	"%2Fetc%2Fpasswd",
	"/etc/passwd",
	"//etc/passwd",
	/* .. in any position, plain and percent-encoded */
	"..",
	"../../outside/secret.txt",
	"sub/../../../outside/secret.txt",
	"sub/..",
	"..%2F..%2Foutside%2Fsecret.txt",
	"%2e%2e/%2e%2e/outside/secret.txt",
	"%2E%2E%2F%2E%2E%2Foutside%2Fsecret.txt",
	".%2e/.%2e/outside/secret.txt",
	/* doubly and triply encoded */
	"%252e%252e%252f%252e%252e%252foutside%252fsecret.txt",
	"..%252f..%252foutside",
	"%25252e%25252e%25252f",
	/* backslashes */
	"..%5C..%5Coutside%5Csecret.txt",
	"sub%5C..%5C..%5C..%5Coutside",
	"..%255c..%255coutside",
	/* NUL and other control bytes */
	"%00",
	"secret.txt%00.js",
	"..%00/x",
	"a%01b",
	"a%0Ab",
	/* not UTF-8, and an overlong encoding of "." */
	"%FF",
	"%C0%AE%C0%AE/%C0%AE%C0%AE/outside",
	/* the service folder itself */
	".",
	"./",
	".%2F.%2F",
	/* links whose real path leaves the folder, and one that stays inside */
	"link-out/secret.txt",
	"link-out/new.txt",
	"link-secret",
	"abs-link/secret.txt",
	"dangling",
	"sub/link-up/secret.txt",
	"link-in/a.txt",
	/* a step that is a file */
	"manifest.json/x",
};

static void
assert_request_refused(SlDaemonFixture *fx, const char *method, const char *query)
{
	g_autofree char *url = g_strconcat("/api/services/demo/files/content?path=", query, NULL);
	guint status = 0;
	g_autoptr(JsonNode) node = sl_daemon_fixture_request(fx, method, url,
							     "{\"content\":\"pwned\"}", &status);

	if (status != 400)
		g_error("%s %s: status %u, expected 400", method, query, status);
	sl_daemon_fixture_assert_error(node, "bad_request", "path rejected: unsafe or invalid");
}

static void
test_hostile_paths_func(void)
{
	static const char *const methods[] = {"GET", "PUT", "POST", "DELETE"};
	SlDaemonFixture fx;
	g_autofree char *service = NULL;
	g_autofree char *sub = NULL;
	g_autofree char *outside = NULL;
	g_autofree char *link_path = NULL;
	g_autofree char *before = NULL;
	g_autofree char *after = NULL;
	g_autofree char *long_name = g_strnfill(300, 'n');
	g_autoptr(GString) long_path = g_string_new(NULL);
	g_autoptr(GPtrArray) extra = g_ptr_array_new();

	sl_daemon_fixture_init(&fx);
	sl_daemon_fixture_start(&fx);
	create_demo(&fx, "basic");

	/* outside/ beside services/, reachable by links planted in the service folder */
	outside = sl_test_make_dir(fx.root, "outside");
	sl_test_write_file(outside, "secret.txt", "secret", 0644);
	service = g_build_filename(fx.root, "services", "demo", NULL);
	sub = sl_test_make_dir(service, "sub");
	sl_test_write_file(sub, "a.txt", "inside", 0644);
	link_path = g_build_filename(service, "link-out", NULL);
	g_assert_cmpint(symlink("../../outside", link_path), ==, 0);
	g_free(link_path);
	link_path = g_build_filename(service, "link-secret", NULL);
	g_assert_cmpint(symlink("../../outside/secret.txt", link_path), ==, 0);
	g_free(link_path);
	link_path = g_build_filename(service, "abs-link", NULL);
	g_assert_cmpint(symlink(outside, link_path), ==, 0);
	g_free(link_path);
	link_path = g_build_filename(service, "dangling", NULL);
	g_assert_cmpint(symlink("../../outside/planted.txt", link_path), ==, 0);
	g_free(link_path);
	link_path = g_build_filename(sub, "link-up", NULL);
	g_assert_cmpint(symlink("../../../outside", link_path), ==, 0);
	g_free(link_path);
	link_path = g_build_filename(service, "link-in", NULL);
	g_assert_cmpint(symlink("sub", link_path), ==, 0);

	/* over-long: a 300-byte name, a 5000-byte path */
	while (long_path->len < 5000)
		g_string_append(long_path, "dd/");
	g_ptr_array_add(extra, long_name);
	g_ptr_array_add(extra, long_path->str);

	before = snapshot(fx.root);
	g_assert_cmpuint(G_N_ELEMENTS(hostile_queries) + extra->len, >=, 20);
	for (guint m = 0; m < G_N_ELEMENTS(methods); m++) {
		for (guint i = 0; i < G_N_ELEMENTS(hostile_queries); i++)
			assert_request_refused(&fx, methods[m], hostile_queries[i]);
		for (guint i = 0; i < extra->len; i++)
			assert_request_refused(&fx, methods[m], extra->pdata[i]);
	}

	/* nothing anywhere in the data root changed: not outside/, not the service */
	after = snapshot(fx.root);
	g_assert_cmpstr(after, ==, before);
	sl_daemon_fixture_clear(&fx);
}

/* ---- two writers at once ------------------------------------------------------------- */

#define VERSION_BYTES (300 * 1024)

typedef struct {
	GMainLoop *loop;
	guint pending; /* requests in flight: the two writes and the reader's current read */
	guint statuses[2];
	gboolean writing;
	guint reads;
	SoupSession *reader;
	char *read_url;
} Concurrent;

typedef struct {
	Concurrent *state;
	guint index;
	SoupMessage *msg;
} Put;

static void
put_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Put *put = user_data;
	g_autoptr(GBytes) body = NULL;
	g_autoptr(GError) error = NULL;

	body = soup_session_send_and_read_finish(SOUP_SESSION(source), res, &error);
	g_assert_no_error(error);
	put->state->statuses[put->index] = soup_message_get_status(put->msg);
	g_object_unref(put->msg);
	if (put->state->statuses[0] != 0 && put->state->statuses[1] != 0)
		put->state->writing = FALSE;
	if (--put->state->pending == 0)
		g_main_loop_quit(put->state->loop);
	g_free(put);
}

/* one whole version, never a mix or a part */
static void
assert_whole(const char *text, gsize length)
{
	g_assert_cmpuint(length, ==, VERSION_BYTES);
	g_assert_true(text[0] == 'a' || text[0] == 'b' || text[0] == 'z');
	for (gsize i = 1; i < length; i++)
		g_assert_true(text[i] == text[0]);
}

static void read_again(Concurrent *state);

/* reads the file again and again while the two writes are in flight */
static void
read_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Concurrent *state = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) body = NULL;
	g_autoptr(JsonNode) node = NULL;
	const char *content;

	body = soup_session_send_and_read_finish(SOUP_SESSION(source), res, &error);
	g_assert_no_error(error);
	node = stdiolink_json_parse(g_bytes_get_data(body, NULL), (gssize)g_bytes_get_size(body),
				    NULL);
	content = json_object_get_string_member(object_of(node), "content");
	assert_whole(content, strlen(content));
	state->reads++;
	if (state->writing) {
		read_again(state);
		return;
	}
	if (--state->pending == 0)
		g_main_loop_quit(state->loop);
}

static void
read_again(Concurrent *state)
{
	g_autoptr(SoupMessage) msg = soup_message_new("GET", state->read_url);

	soup_session_send_and_read_async(state->reader, msg, G_PRIORITY_DEFAULT, NULL,
					 read_done_cb, state);
}

static void
send_put(SlDaemonFixture *fx, SoupSession *session, Concurrent *state, guint index, char letter)
{
	g_autofree char *url = g_strconcat(fx->base_url,
					   "/api/services/demo/files/content?path=shared.txt",
					   NULL);
	g_autofree char *content = g_strnfill(VERSION_BYTES, letter);
	g_autofree char *body = content_body(content);
	g_autoptr(GBytes) bytes = g_bytes_new(body, strlen(body));
	Put *put = g_new0(Put, 1);

	put->state = state;
	put->index = index;
	put->msg = soup_message_new("PUT", url);
	soup_message_set_request_body_from_bytes(put->msg, "application/json", bytes);
	soup_session_send_and_read_async(session, put->msg, G_PRIORITY_DEFAULT, NULL,
					 put_done_cb, put);
}

static void
test_concurrent_writes_func(void)
{
	SlDaemonFixture fx;
	g_autoptr(SoupSession) first = sl_daemon_fixture_new_session();
	g_autoptr(SoupSession) second = sl_daemon_fixture_new_session();
	g_autoptr(SoupSession) reader = sl_daemon_fixture_new_session();
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	g_autofree char *url = NULL;
	g_autofree char *initial = g_strnfill(VERSION_BYTES, 'z');
	g_autofree char *body = content_body(initial);
	g_autoptr(JsonNode) created = NULL;

	sl_daemon_fixture_init(&fx);
	sl_daemon_fixture_start(&fx);
	create_demo(&fx, "empty");
	url = content_url("demo", "shared.txt");
	created = call(&fx, "POST", url, body, 201);

	for (guint round = 0; round < 5; round++) {
		Concurrent state = {loop, 3, {0, 0}, TRUE, 0, reader, NULL};
		g_autofree char *text = NULL;

		state.read_url = g_strconcat(fx.base_url, url, NULL);
		send_put(&fx, first, &state, 0, 'a');
		send_put(&fx, second, &state, 1, 'b');
		read_again(&state);
		g_main_loop_run(loop);
		g_free(state.read_url);
		g_assert_cmpuint(state.statuses[0], ==, 200);
		g_assert_cmpuint(state.statuses[1], ==, 200);
		g_assert_cmpuint(state.reads, >, 0);

		text = read_content(&fx, "demo", "shared.txt");
		assert_whole(text, strlen(text));
		g_assert_true(text[0] != 'z');
	}
	sl_daemon_fixture_clear(&fx);
}

/* ---- stdiolinkctl ------------------------------------------------------------------- */

static gboolean
log_has_marker_cb(SlDaemonFixture *fx, gpointer data)
{
	guint status = 0;
	g_autoptr(JsonNode) node = sl_daemon_fixture_request(fx, "GET", "/api/projects/p1/logs",
							     NULL, &status);
	g_autofree char *text = NULL;

	if (status != 200)
		return FALSE;
	text = stdiolink_json_to_string(node, STDIOLINK_JSON_COMPACT);
	return strstr(text, data) != NULL;
}

/* the tour: a native service written and run entirely through the CLI */
static void
test_cli_func(void)
{
	SlDaemonFixture fx;
	SlCliResult r = {0};
	g_autofree char *work = sl_test_make_tmp_dir("service-cli-XXXXXX");
	g_autofree char *script = g_build_filename(work, "run.sh", NULL);
	g_autofree char *note = g_build_filename(work, "note.md", NULL);
	g_autoptr(JsonNode) json = NULL;
	g_autoptr(JsonNode) project = NULL;

	sl_test_write_file(work, "run.sh", "#!/bin/sh\necho written-through-the-cli\n", 0644);
	sl_test_write_file(work, "note.md", "# Notes\n", 0644);
	sl_daemon_fixture_init(&fx);
	sl_daemon_fixture_start(&fx);

	g_assert_cmpint(sl_cli_run(&fx, &r, "services", "create", "demo", "--template", "exec",
				   "--name", "Demo", "--service-version", "0.1", NULL), ==, 0);
	g_assert_nonnull(strstr(r.out, "Created service"));
	g_assert_cmpint(sl_cli_run(&fx, &r, "services", "put", "demo", "run", "--file", script,
				   NULL), ==, 0);
	g_assert_nonnull(strstr(r.out, "Wrote run"));
	g_assert_cmpint(sl_cli_run(&fx, &r, "services", "put", "demo", "docs/note.md", "--file",
				   note, NULL), ==, 0);
	g_assert_nonnull(strstr(r.out, "Created docs/note.md"));
	g_assert_cmpint(sl_cli_run(&fx, &r, "services", "files", "demo", NULL), ==, 0);
	g_assert_nonnull(strstr(r.out, "docs/note.md"));
	g_assert_cmpint(sl_cli_run(&fx, &r, "services", "cat", "demo", "docs/note.md", NULL),
			==, 0);
	g_assert_cmpstr(r.out, ==, "# Notes\n");
	g_assert_cmpint(sl_cli_run(&fx, &r, "--json", "services", "cat", "demo", "docs/note.md",
				   NULL), ==, 0);
	json = stdiolink_json_parse(r.out, -1, NULL);
	g_assert_cmpstr(json_object_get_string_member(object_of(json), "content"), ==,
			"# Notes\n");

	/* a project on it starts and runs the uploaded entry */
	g_assert_cmpint(sl_cli_run(&fx, &r, "projects", "create", "--id", "p1", "--name", "P1",
				   "--service", "demo", "--schedule", "manual", NULL), ==, 0);
	g_assert_cmpint(sl_cli_run(&fx, &r, "projects", "start", "p1", NULL), ==, 0);
	g_assert_true(sl_daemon_fixture_wait(&fx, log_has_marker_cb, "written-through-the-cli"));

	g_assert_cmpint(sl_cli_run(&fx, &r, "services", "rm", "demo", "docs/note.md", NULL), ==, 0);
	g_assert_cmpint(sl_cli_run(&fx, &r, "services", "rm", "demo", "manifest.json", NULL),
			==, 1);
	g_assert_nonnull(strstr(r.err, "cannot delete core file: manifest.json"));
	g_assert_cmpint(sl_cli_run(&fx, &r, "services", "cat", "demo",
				   "../../projects/p1/config.json", NULL), ==, 1);
	g_assert_nonnull(strstr(r.err, "path rejected"));

	/* delete: refused while p1 uses it, with the way round it; then forced */
	g_assert_cmpint(sl_cli_run(&fx, &r, "services", "delete", "demo", NULL), ==, 1);
	g_assert_nonnull(strstr(r.err, "service has associated projects: p1"));
	g_assert_nonnull(strstr(r.err, "--force"));
	g_assert_cmpint(sl_cli_run(&fx, &r, "--json", "services", "delete", "demo", NULL), ==, 1);
	g_clear_pointer(&json, json_node_unref);
	json = stdiolink_json_parse(r.out, -1, NULL);
	g_assert_true(json_object_has_member(object_of(json), "associatedProjects"));
	g_assert_cmpint(sl_cli_run(&fx, &r, "services", "delete", "demo", "--force", NULL), ==, 0);
	project = call(&fx, "GET", "/api/projects/p1", NULL, 200);
	g_assert_cmpstr(json_object_get_string_member(object_of(project), "error"), ==,
			"service 'demo' has been deleted");

	sl_cli_result_clear(&r);
	g_assert_true(sl_test_remove_tree(work));
	sl_daemon_fixture_clear(&fx);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	g_test_add_func("/service-api/create", test_create_func);
	g_test_add_func("/service-api/delete", test_delete_func);
	g_test_add_func("/service-api/files/read", test_files_read_func);
	g_test_add_func("/service-api/files/write", test_files_write_func);
	g_test_add_func("/service-api/files/create-delete", test_files_create_delete_func);
	g_test_add_func("/service-api/hostile-paths", test_hostile_paths_func);
	g_test_add_func("/service-api/concurrent-writes", test_concurrent_writes_func);
	g_test_add_func("/service-api/cli", test_cli_func);
	return g_test_run();
}
