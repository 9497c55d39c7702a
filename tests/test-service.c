#include "config.h"

#include <glib/gstdio.h>
#include <unistd.h>

#include "sl-test-utils.h"
#include "stdiolink.h"

#define MANIFEST(id) "{\"manifestVersion\": \"1\", \"id\": \"" id "\", \"name\": \"N\"," \
		     " \"version\": \"1.0\"}"
#define SCHEMA "{\"port\": {\"type\": \"int\", \"default\": 1}}"

/* warnings of the scanner, as "<dir>: <reason>", captured from the structured log */
static GPtrArray *scan_warnings;

/* a service folder; a %NULL text leaves that file out */
static char *
make_service(const char *parent, const char *name, const char *manifest, const char *index,
	     const char *schema)
{
	char *dir = sl_test_make_dir(parent, name);

	if (manifest != NULL)
		sl_test_write_file(dir, "manifest.json", manifest, 0644);
	if (index != NULL)
		sl_test_write_file(dir, "index.js", index, 0644);
	if (schema != NULL)
		sl_test_write_file(dir, "config.schema.json", schema, 0644);
	return dir;
}

static void
assert_load_fails(const char *dir, const char *message)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(StdiolinkService) svc = stdiolink_service_load(dir, &error);

	g_assert_null(svc);
	g_assert_nonnull(error);
	g_assert_true(error->domain == STDIOLINK_ERROR);
	g_assert_cmpstr(error->message, ==, message);
}

static void
assert_load_fails_prefix(const char *dir, const char *prefix)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(StdiolinkService) svc = stdiolink_service_load(dir, &error);

	g_assert_null(svc);
	g_assert_nonnull(error);
	if (!g_str_has_prefix(error->message, prefix))
		g_error("'%s' does not start with '%s'", error->message, prefix);
}

typedef struct {
	const char *root;
	const char *ids[10];
	guint failed;
} FixtureRoot;

static const FixtureRoot fixture_roots[] = {
	{"data_root",
	 {"bin_scan_orchestrator", "exec_runner", "modbusrtu_serial_server_service",
	  "modbusrtu_server_service", "modbustcp_server_service", "opcua_server_service",
	  "plc_crane_sim", NULL},
	 0},
	/* its `config` folder holds a sample config, not a service */
	{"demo_config_demo",
	 {"all_in_one", "array_and_enum", "basic_types", "config_file_merge", "constraints",
	  "nested_object", "readonly_and_errors", NULL},
	 1},
	{"demo_server_manager_demo_data_root",
	 {"api_health_check_service", "driver_pipeline_service", "multi_device_service",
	  "process_exec_service", "quick_start_service", "system_info_service", NULL},
	 0},
};

static void
check_fixture_service(StdiolinkService *svc, const char *source_dir, const char *data_root)
{
	g_autofree char *schema_path = g_build_filename(source_dir, "config.schema.json", NULL);
	g_autofree char *text = NULL;
	g_autoptr(JsonNode) raw = NULL;
	g_autoptr(JsonNode) detail = NULL;
	JsonNode *raw_node;
	JsonObject *object;

	/* the raw schema is the file as on disk */
	text = sl_test_read_file(schema_path);
	raw = stdiolink_json_parse(text, -1, NULL);
	raw_node = json_node_alloc();
	json_node_init_object(raw_node, stdiolink_service_get_raw_schema(svc));
	g_assert_true(stdiolink_json_equal(raw, raw_node));
	json_node_unref(raw_node);

	g_assert_false(stdiolink_service_is_native(svc));
	g_assert_true(g_str_has_suffix(stdiolink_service_get_entry_path(svc), "/index.js"));
	detail = stdiolink_service_to_detail_json(svc, data_root, NULL);
	object = json_node_get_object(detail);
	g_assert_true(JSON_NODE_HOLDS_ARRAY(json_object_get_member(object, "configSchemaFields")));
	g_assert_true(g_str_has_prefix(json_object_get_string_member(object, "serviceDirDisplay"),
				       "services/"));
}

static void
test_service_fixtures_func(void)
{
	const char *fixtures = g_getenv("STDIOLINK_FIXTURES");

	g_assert_nonnull(fixtures);
	for (guint r = 0; r < G_N_ELEMENTS(fixture_roots); r++) {
		const FixtureRoot *fr = &fixture_roots[r];
		g_autofree char *source = g_build_filename(fixtures, "original-data-roots",
							   fr->root, "services", NULL);
		g_autofree char *root = sl_test_make_tmp_dir("stdiolink-service-XXXXXX");
		g_autofree char *services = g_build_filename(root, "services", NULL);
		g_autoptr(GPtrArray) names = stdiolink_scan_list_subdirs(source, NULL);
		g_autoptr(GPtrArray) loaded = NULL;
		StdiolinkServiceScanStats stats;
		guint n_ids = g_strv_length((char **)fr->ids);

		for (guint i = 0; i < names->len; i++) {
			g_autofree char *from = g_build_filename(source, names->pdata[i], NULL);
			g_autofree char *to = g_build_filename(services, names->pdata[i], NULL);

			/* a JavaScript service needs an index.js, which the fixtures leave out */
			sl_test_copy_tree(from, to);
			sl_test_write_file(to, "index.js", "// placeholder\n", 0644);
		}

		loaded = stdiolink_service_scan(services, &stats, NULL);
		g_assert_cmpuint(stats.scanned_dirs, ==, names->len);
		g_assert_cmpuint(stats.loaded_services, ==, n_ids);
		g_assert_cmpuint(stats.failed_services, ==, fr->failed);
		g_assert_cmpuint(loaded->len, ==, n_ids);
		for (guint i = 0; i < n_ids; i++) {
			StdiolinkService *svc = g_ptr_array_index(loaded, i);
			g_autofree char *from = g_build_filename(source, fr->ids[i], NULL);

			g_assert_cmpstr(stdiolink_service_get_id(svc), ==, fr->ids[i]);
			check_fixture_service(svc, from, root);
		}

		/* each failure is logged with its folder and reason */
		g_assert_cmpuint(scan_warnings->len, ==, fr->failed);
		if (fr->failed > 0) {
			g_autofree char *config = g_build_filename(services, "config", NULL);
			g_autofree char *expected = g_strdup_printf(
			    "%s: missing manifest.json in service directory: %s", config, config);

			g_assert_cmpstr(scan_warnings->pdata[0], ==, expected);
		}
		g_ptr_array_set_size(scan_warnings, 0);
		sl_test_remove_tree(root);
	}
}

static void
test_service_missing_files_func(void)
{
	g_autofree char *tmp = sl_test_make_tmp_dir("stdiolink-service-XXXXXX");
	const struct {
		const char *name;
		gboolean manifest, index, schema;
		const char *missing;
	} cases[] = {
		{"no-manifest", FALSE, TRUE, TRUE, "manifest.json"},
		{"no-index", TRUE, FALSE, TRUE, "index.js"},
		{"no-schema", TRUE, TRUE, FALSE, "config.schema.json"},
		{"nothing", FALSE, FALSE, FALSE, "manifest.json"},
		{"only-manifest", TRUE, FALSE, FALSE, "index.js"},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *dir = make_service(tmp, cases[i].name,
						    cases[i].manifest ? MANIFEST("m") : NULL,
						    cases[i].index ? "" : NULL,
						    cases[i].schema ? SCHEMA : NULL);
		g_autofree char *message = g_strdup_printf("missing %s in service directory: %s",
							   cases[i].missing, dir);

		assert_load_fails(dir, message);
	}
	sl_test_remove_tree(tmp);
}

static void
test_service_file_order_func(void)
{
	g_autofree char *tmp = sl_test_make_tmp_dir("stdiolink-service-XXXXXX");
	g_autofree char *a = make_service(tmp, "a", "{broken", NULL, SCHEMA);
	g_autofree char *b = make_service(tmp, "b", "{broken", "", NULL);
	g_autofree char *c = make_service(tmp, "c", "{broken", "", "{broken");
	g_autofree char *msg_a = g_strdup_printf("missing index.js in service directory: %s", a);
	g_autofree char *msg_b =
	    g_strdup_printf("missing config.schema.json in service directory: %s", b);
	g_autofree char *gone = g_build_filename(tmp, "gone", NULL);
	g_autofree char *msg_gone = g_strdup_printf("service directory does not exist: %s", gone);

	/* missing files are reported before a broken manifest, as the earlier server did */
	assert_load_fails(a, msg_a);
	assert_load_fails(b, msg_b);
	/* and a broken manifest before a broken schema */
	assert_load_fails_prefix(c, "manifest.json parse error: ");
	assert_load_fails(gone, msg_gone);
	sl_test_remove_tree(tmp);
}

typedef struct {
	const char *manifest;
	const char *message;
} ManifestCase;

static const ManifestCase manifest_cases[] = {
	{"[]", "manifest.json must contain a JSON object"},
	{"\"x\"", "manifest.json must contain a JSON object"},
	{"{\"manifestVersion\": \"1\", \"id\": \"a\", \"name\": \"n\", \"version\": \"1\","
	 " \"main\": \"x.js\"}",
	 "unknown field in manifest.json: \"main\""},
	{"{\"zeta\": 1, \"alpha\": 2}", "unknown field in manifest.json: \"alpha\""},
	{"{\"id\": \"a\", \"name\": \"n\", \"version\": \"1\"}",
	 "missing required field: manifestVersion"},
	{"{\"manifestVersion\": \"2\", \"id\": \"a\", \"name\": \"n\", \"version\": \"1\"}",
	 "unsupported manifestVersion: \"2\" (expected \"1\")"},
	{"{\"manifestVersion\": 1, \"id\": \"a\", \"name\": \"n\", \"version\": \"1\"}",
	 "unsupported manifestVersion: \"\" (expected \"1\")"},
	{"{\"manifestVersion\": null, \"id\": \"a\"}",
	 "unsupported manifestVersion: \"\" (expected \"1\")"},
	{"{\"manifestVersion\": \"1\", \"name\": \"n\", \"version\": \"1\"}",
	 "missing required field: id"},
	{"{\"manifestVersion\": \"1\", \"id\": \"\", \"name\": \"n\", \"version\": \"1\"}",
	 "missing required field: id"},
	{"{\"manifestVersion\": \"1\", \"id\": 7, \"name\": \"n\", \"version\": \"1\"}",
	 "missing required field: id"},
	{"{\"manifestVersion\": \"1\", \"id\": \"a\", \"version\": \"1\"}",
	 "missing required field: name"},
	{"{\"manifestVersion\": \"1\", \"id\": \"a\", \"name\": [], \"version\": \"1\"}",
	 "missing required field: name"},
	{"{\"manifestVersion\": \"1\", \"id\": \"a\", \"name\": \"n\"}",
	 "missing required field: version"},
	{"{\"manifestVersion\": \"1\", \"id\": \"a\", \"name\": \"n\", \"version\": 1}",
	 "missing required field: version"},
	/* our runtime extension */
	{"{\"manifestVersion\": \"1\", \"id\": \"a\", \"name\": \"n\", \"version\": \"1\","
	 " \"runtime\": \"python\"}",
	 "unsupported runtime: \"python\" (expected \"js\" or \"exec\")"},
	{"{\"manifestVersion\": \"1\", \"id\": \"a\", \"name\": \"n\", \"version\": \"1\","
	 " \"runtime\": 3}",
	 "unsupported runtime: \"\" (expected \"js\" or \"exec\")"},
	{"{\"manifestVersion\": \"1\", \"id\": \"a\", \"name\": \"n\", \"version\": \"1\","
	 " \"runtime\": \"exec\", \"entry\": \"\"}",
	 "manifest field \"entry\" must be a non-empty string"},
	{"{\"manifestVersion\": \"1\", \"id\": \"a\", \"name\": \"n\", \"version\": \"1\","
	 " \"runtime\": \"exec\", \"entry\": 5}",
	 "manifest field \"entry\" must be a non-empty string"},
	{"{\"manifestVersion\": \"1\", \"id\": \"a\", \"name\": \"n\", \"version\": \"1\","
	 " \"entry\": \"run\"}",
	 "manifest field \"entry\" requires \"runtime\": \"exec\""},
};

static void
test_service_manifest_errors_func(void)
{
	g_autofree char *tmp = sl_test_make_tmp_dir("stdiolink-service-XXXXXX");

	for (guint i = 0; i < G_N_ELEMENTS(manifest_cases); i++) {
		g_autofree char *name = g_strdup_printf("case%u", i);
		g_autofree char *dir = make_service(tmp, name, manifest_cases[i].manifest, "",
						    SCHEMA);

		g_test_message("case %u: %s", i, manifest_cases[i].manifest);
		assert_load_fails(dir, manifest_cases[i].message);
	}
	sl_test_remove_tree(tmp);
}

static void
test_service_manifest_unreadable_func(void)
{
	g_autofree char *tmp = sl_test_make_tmp_dir("stdiolink-service-XXXXXX");
	g_autofree char *dir = make_service(tmp, "s", NULL, "", SCHEMA);
	g_autofree char *broken = make_service(tmp, "broken", "{\"id\": ", "", SCHEMA);
	g_autofree char *path = g_build_filename(dir, "manifest.json", NULL);
	g_autofree char *message = g_strdup_printf("cannot open manifest file: %s", path);

	g_assert_cmpint(g_mkdir(path, 0755), ==, 0);
	assert_load_fails(dir, message);
	assert_load_fails_prefix(broken, "manifest.json parse error: ");
	sl_test_remove_tree(tmp);
}

static void
test_service_schema_errors_func(void)
{
	g_autofree char *tmp = sl_test_make_tmp_dir("stdiolink-service-XXXXXX");
	const struct {
		const char *schema;
		const char *message;
	} cases[] = {
		{"[]", "config.schema.json must be a JSON object"},
		{"{\"a\": 1}", "field descriptor for \"a\" must be a JSON object"},
		{"{\"a\": {\"type\": \"zz\"}}", "unknown field type \"zz\" for field \"a\""},
		{"{\"a\": {\"type\": \"object\", \"fields\": []}}",
		 "\"fields\" for field \"a\" must be a JSON object"},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *name = g_strdup_printf("case%u", i);
		g_autofree char *dir = make_service(tmp, name, MANIFEST("a"), "", cases[i].schema);

		assert_load_fails(dir, cases[i].message);
	}

	{
		g_autofree char *dir = make_service(tmp, "syntax", MANIFEST("a"), "", "{\"a\":");
		g_autofree char *unreadable = make_service(tmp, "unreadable", MANIFEST("a"), "",
							   NULL);
		g_autofree char *path = g_build_filename(unreadable, "config.schema.json", NULL);
		g_autofree char *message = g_strdup_printf("cannot open config schema file: %s",
							   path);

		assert_load_fails_prefix(dir, "config.schema.json parse error: ");
		g_assert_cmpint(g_mkdir(path, 0755), ==, 0);
		assert_load_fails(unreadable, message);
	}
	sl_test_remove_tree(tmp);
}

static void
test_service_duplicates_func(void)
{
	g_autofree char *tmp = sl_test_make_tmp_dir("stdiolink-service-XXXXXX");
	g_autofree char *first = make_service(tmp, "a_first", MANIFEST("same"), "", SCHEMA);
	g_autofree char *second = make_service(tmp, "B_second", MANIFEST("same"), "", SCHEMA);
	g_autofree char *other = make_service(tmp, "c", MANIFEST("other"), "", SCHEMA);
	g_autoptr(GPtrArray) services = NULL;
	g_autofree char *expected = g_strdup_printf("%s: duplicate service id 'same'", second);
	StdiolinkServiceScanStats stats;

	services = stdiolink_service_scan(tmp, &stats, NULL);
	g_assert_cmpuint(stats.scanned_dirs, ==, 3);
	g_assert_cmpuint(stats.loaded_services, ==, 2);
	g_assert_cmpuint(stats.failed_services, ==, 1);
	g_assert_cmpuint(services->len, ==, 2);

	/* the first folder in case-insensitive order keeps the id */
	g_assert_cmpstr(stdiolink_service_get_dir(services->pdata[0]), ==, first);
	g_assert_cmpstr(stdiolink_service_get_id(services->pdata[1]), ==, "other");
	g_assert_cmpuint(scan_warnings->len, ==, 1);
	g_assert_cmpstr(scan_warnings->pdata[0], ==, expected);
	g_ptr_array_set_size(scan_warnings, 0);
	sl_test_remove_tree(tmp);
}

static void
test_service_scan_dirs_func(void)
{
	g_autofree char *tmp = sl_test_make_tmp_dir("stdiolink-service-XXXXXX");
	g_autofree char *services = g_build_filename(tmp, "services", NULL);
	g_autofree char *outside = make_service(tmp, "outside", MANIFEST("linked"), "", SCHEMA);
	g_autofree char *link = g_build_filename(services, "Linked", NULL);
	g_autofree char *dangling = g_build_filename(services, "dangling", NULL);
	g_autofree char *hidden = NULL;
	g_autofree char *b = NULL;
	g_autofree char *a = NULL;
	g_autofree char *c = NULL;
	g_autoptr(GPtrArray) names = NULL;
	g_autoptr(GPtrArray) loaded = NULL;
	const char *expected[] = {"A", "b", "c", "Linked"};
	StdiolinkServiceScanStats stats = {9, 9, 9};

	b = make_service(services, "b", MANIFEST("sb"), "", SCHEMA);
	a = make_service(services, "A", MANIFEST("sa"), "", SCHEMA);
	c = make_service(services, "c", MANIFEST("sc"), "", SCHEMA);
	hidden = make_service(services, ".hidden", MANIFEST("hidden"), "", SCHEMA);
	sl_test_write_file(services, "file.txt", "not a folder", 0644);
	g_assert_cmpint(symlink(outside, link), ==, 0);
	g_assert_cmpint(symlink("/nonexistent/dir", dangling), ==, 0);

	/* folders and links to folders, no dot entries, no files, no dangling links */
	names = stdiolink_scan_list_subdirs(services, NULL);
	g_assert_cmpuint(names->len, ==, G_N_ELEMENTS(expected));
	for (guint i = 0; i < names->len; i++)
		g_assert_cmpstr(names->pdata[i], ==, expected[i]);

	loaded = stdiolink_service_scan(services, &stats, NULL);
	g_assert_cmpuint(stats.scanned_dirs, ==, 4);
	g_assert_cmpuint(stats.loaded_services, ==, 4);
	g_assert_cmpuint(stats.failed_services, ==, 0);
	g_assert_cmpstr(stdiolink_service_get_id(loaded->pdata[0]), ==, "sa");
	g_assert_cmpstr(stdiolink_service_get_id(loaded->pdata[1]), ==, "sb");
	g_assert_cmpstr(stdiolink_service_get_id(loaded->pdata[3]), ==, "linked");
	g_assert_cmpstr(stdiolink_service_get_dir(loaded->pdata[3]), ==, link);
	g_assert_cmpint(stdiolink_scan_compare_names("a", "B"), <, 0);
	g_assert_cmpint(stdiolink_scan_compare_names("B", "b"), <, 0);
	sl_test_remove_tree(tmp);
}

static void
test_service_missing_dir_func(void)
{
	g_autoptr(GPtrArray) services = NULL;
	StdiolinkServiceScanStats stats = {1, 1, 1};

	services = stdiolink_service_scan("/nonexistent/stdiolink/services", &stats, NULL);
	g_assert_cmpuint(services->len, ==, 0);
	g_assert_cmpuint(stats.scanned_dirs, ==, 0);
	g_assert_cmpuint(stats.loaded_services, ==, 0);
	g_assert_cmpuint(stats.failed_services, ==, 0);
}

/* a services folder that exists but cannot be read is an error, not an empty folder */
static void
test_service_unreadable_dir_func(void)
{
	g_autofree char *tmp = sl_test_make_tmp_dir("stdiolink-svc-XXXXXX");
	g_autofree char *services = g_build_filename(tmp, "services", NULL);
	g_autoptr(GPtrArray) loaded = NULL;
	g_autoptr(GPtrArray) names = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *expected = NULL;

	/* a file where the folder should be fails the same way for every user, root too */
	sl_test_write_file(tmp, "services", "not a folder", 0644);
	loaded = stdiolink_service_scan(services, NULL, &error);
	g_assert_null(loaded);
	g_assert_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_INTERNAL);
	expected = g_strconcat("cannot read folder ", services, ": ", NULL);
	g_assert_true(g_str_has_prefix(error->message, expected));
	g_clear_error(&error);

	names = stdiolink_scan_list_subdirs(services, &error);
	g_assert_null(names);
	g_assert_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_INTERNAL);
	sl_test_remove_tree(tmp);
}

#define EXEC_MANIFEST(entry) "{\"manifestVersion\": \"1\", \"id\": \"x\", \"name\": \"X\"," \
			     " \"version\": \"1\", \"runtime\": \"exec\"" entry "}"

static void
test_service_exec_errors_func(void)
{
	g_autofree char *tmp = sl_test_make_tmp_dir("stdiolink-service-XXXXXX");
	g_autofree char *missing = make_service(tmp, "missing", EXEC_MANIFEST(""), NULL, SCHEMA);
	g_autofree char *plain = make_service(tmp, "plain", EXEC_MANIFEST(""), NULL, SCHEMA);
	g_autofree char *folder = make_service(tmp, "folder", EXEC_MANIFEST(""), NULL, SCHEMA);
	g_autofree char *up = make_service(tmp, "up", EXEC_MANIFEST(", \"entry\": \"../up/../x\""),
					   NULL, SCHEMA);
	g_autofree char *abs = make_service(tmp, "abs", EXEC_MANIFEST(", \"entry\": \"/bin/sh\""),
					    NULL, SCHEMA);
	g_autofree char *msg = NULL;

	msg = g_strdup_printf("service entry not found: %s/run", missing);
	assert_load_fails(missing, msg);
	g_free(msg);

	sl_test_write_file(plain, "run", "#!/bin/sh\n", 0644);
	msg = g_strdup_printf("service entry not executable: %s/run", plain);
	assert_load_fails(plain, msg);
	g_free(msg);

	msg = g_build_filename(folder, "run", NULL);
	g_assert_cmpint(g_mkdir(msg, 0755), ==, 0);
	g_free(msg);
	msg = g_strdup_printf("service entry is not a regular file: %s/run", folder);
	assert_load_fails(folder, msg);
	g_free(msg);

	/* the entry may not climb out of the folder, not even back into a sibling */
	sl_test_write_file(tmp, "x", "#!/bin/sh\n", 0755);
	assert_load_fails(up, "service entry outside the service directory: ../up/../x");
	assert_load_fails(abs, "service entry outside the service directory: /bin/sh");

	/* a JavaScript service still needs its index.js */
	{
		g_autofree char *js = make_service(tmp, "js",
						   "{\"manifestVersion\": \"1\", \"id\": \"j\","
						   " \"name\": \"J\", \"version\": \"1\","
						   " \"runtime\": \"js\"}",
						   NULL, SCHEMA);

		msg = g_strdup_printf("missing index.js in service directory: %s", js);
		assert_load_fails(js, msg);
	}
	sl_test_remove_tree(tmp);
}

static void
test_service_exec_ok_func(void)
{
	g_autofree char *tmp = sl_test_make_tmp_dir("stdiolink-service-XXXXXX");
	g_autofree char *def = make_service(tmp, "def", EXEC_MANIFEST(""), NULL, SCHEMA);
	g_autofree char *sub = make_service(tmp, "sub",
					    EXEC_MANIFEST(", \"entry\": \"./bin/../bin/tool\""),
					    NULL, SCHEMA);
	g_autofree char *bin = g_build_filename(sub, "bin", NULL);
	g_autofree char *expected = g_build_filename(sub, "bin", "tool", NULL);
	g_autofree char *expected_def = g_build_filename(def, "run", NULL);
	g_autoptr(StdiolinkService) svc_def = NULL;
	g_autoptr(StdiolinkService) svc_sub = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *manifest = NULL;

	sl_test_write_file(def, "run", "#!/bin/sh\nexit 0\n", 0755);
	g_assert_cmpint(g_mkdir(bin, 0755), ==, 0);
	sl_test_write_file(bin, "tool", "#!/bin/sh\nexit 0\n", 0700);

	svc_def = stdiolink_service_load(def, &error);
	g_assert_no_error(error);
	g_assert_true(stdiolink_service_is_native(svc_def));
	g_assert_cmpstr(stdiolink_service_get_runtime(svc_def), ==, "exec");
	g_assert_cmpstr(stdiolink_service_get_entry_path(svc_def), ==, expected_def);

	svc_sub = stdiolink_service_load(sub, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(stdiolink_service_get_entry_path(svc_sub), ==, expected);
	manifest = stdiolink_json_object_to_string(stdiolink_service_get_manifest(svc_sub),
						   STDIOLINK_JSON_COMPACT);
	g_assert_cmpstr(manifest, ==,
			"{\"entry\":\"./bin/../bin/tool\",\"id\":\"x\",\"manifestVersion\":\"1\","
			"\"name\":\"X\",\"runtime\":\"exec\",\"version\":\"1\"}");
	sl_test_remove_tree(tmp);
}

static void
test_service_list_json_func(void)
{
	g_autofree char *root = sl_test_make_tmp_dir("stdiolink-service-XXXXXX");
	g_autofree char *services = g_build_filename(root, "services", NULL);
	g_autofree char *dir = make_service(services, "demo_dir",
					    "{\"manifestVersion\": \"1\", \"id\": \"demo\","
					    " \"name\": \"Demo\", \"version\": \"1.0.0\","
					    " \"description\": \"\", \"author\": \"me\"}",
					    "", SCHEMA);
	g_autoptr(GError) error = NULL;
	g_autoptr(StdiolinkService) svc = stdiolink_service_load(dir, &error);
	g_autoptr(JsonNode) list = NULL;
	g_autoptr(JsonNode) outside = NULL;
	g_autofree char *text = NULL;
	g_autofree char *expected = NULL;

	g_assert_no_error(error);
	list = stdiolink_service_to_list_json(svc, root, 2);
	text = stdiolink_json_to_string(list, STDIOLINK_JSON_COMPACT);
	expected = g_strdup_printf("{\"hasSchema\":true,\"id\":\"demo\",\"name\":\"Demo\","
				   "\"projectCount\":2,\"runtime\":\"js\",\"serviceDir\":\"%s\","
				   "\"serviceDirDisplay\":\"services/demo_dir\","
				   "\"version\":\"1.0.0\"}",
				   dir);
	g_assert_cmpstr(text, ==, expected);
	g_assert_cmpstr(stdiolink_service_get_description(svc), ==, "");
	g_assert_cmpstr(stdiolink_service_get_author(svc), ==, "me");
	g_assert_cmpstr(stdiolink_service_get_name(svc), ==, "Demo");
	g_assert_cmpstr(stdiolink_service_get_version(svc), ==, "1.0.0");

	/* a service folder outside the data root has no display path */
	outside = stdiolink_service_to_list_json(svc, "/some/other/root", 0);
	g_assert_cmpstr(json_object_get_string_member(json_node_get_object(outside),
						      "serviceDirDisplay"),
			==, "--");
	sl_test_remove_tree(root);
}

static void
test_service_detail_json_func(void)
{
	g_autofree char *root = sl_test_make_tmp_dir("stdiolink-service-XXXXXX");
	g_autofree char *services = g_build_filename(root, "services", NULL);
	g_autofree char *dir = make_service(services, "demo",
					    "{\"manifestVersion\": \"1\", \"id\": \"demo\","
					    " \"name\": \"Demo\", \"version\": \"1.0.0\","
					    " \"description\": \"d\", \"author\": \"\"}",
					    "",
					    "{\"port\": {\"type\": \"integer\", \"required\": true,"
					    " \"enum\": [1, 2], \"ui\": {\"widget\": \"x\"}}}");
	const char *projects[] = {"p2", "P1", "p1", NULL};
	g_autoptr(GError) error = NULL;
	g_autoptr(StdiolinkService) svc = stdiolink_service_load(dir, &error);
	g_autoptr(JsonNode) detail = NULL;
	g_autoptr(JsonNode) empty = NULL;
	g_autofree char *text = NULL;
	g_autofree char *expected = NULL;

	g_assert_no_error(error);
	detail = stdiolink_service_to_detail_json(svc, root, projects);
	text = stdiolink_json_to_string(detail, STDIOLINK_JSON_COMPACT);
	expected = g_strdup_printf(
	    "{\"configSchema\":{\"port\":{\"enum\":[1,2],\"required\":true,\"type\":\"integer\","
	    "\"ui\":{\"widget\":\"x\"}}},"
	    "\"configSchemaFields\":[{\"name\":\"port\",\"required\":true,\"type\":\"int\"}],"
	    "\"id\":\"demo\",\"manifest\":{\"description\":\"d\",\"id\":\"demo\","
	    "\"manifestVersion\":\"1\",\"name\":\"Demo\",\"version\":\"1.0.0\"},"
	    "\"name\":\"Demo\",\"projects\":[\"P1\",\"p1\",\"p2\"],\"runtime\":\"js\","
	    "\"serviceDir\":\"%s\",\"serviceDirDisplay\":\"services/demo\","
	    "\"version\":\"1.0.0\"}",
	    dir);
	g_assert_cmpstr(text, ==, expected);

	empty = stdiolink_service_to_detail_json(svc, root, NULL);
	g_assert_cmpuint(json_array_get_length(json_object_get_array_member(
			     json_node_get_object(empty), "projects")),
			 ==, 0);
	sl_test_remove_tree(root);
}

static void
test_service_scan_log_func(void)
{
	g_autofree char *tmp = sl_test_make_tmp_dir("stdiolink-service-XXXXXX");
	g_autofree char *bad = make_service(tmp, "bad", "{\"manifestVersion\": \"2\"}", "", SCHEMA);
	g_autofree char *good = make_service(tmp, "good", MANIFEST("good"), "", SCHEMA);
	g_autofree char *expected = g_strdup_printf(
	    "%s: unsupported manifestVersion: \"2\" (expected \"1\")", bad);
	g_autoptr(GPtrArray) services = stdiolink_service_scan(tmp, NULL, NULL);

	g_assert_cmpuint(services->len, ==, 1);
	g_assert_cmpuint(scan_warnings->len, ==, 1);
	g_assert_cmpstr(scan_warnings->pdata[0], ==, expected);
	g_ptr_array_set_size(scan_warnings, 0);
	sl_test_remove_tree(tmp);
}

int
main(int argc, char **argv)
{
	scan_warnings = sl_test_capture_scan_warnings("STDIOLINK_SERVICE_DIR");
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/service/fixtures", test_service_fixtures_func);
	g_test_add_func("/service/missing-files", test_service_missing_files_func);
	g_test_add_func("/service/file-order", test_service_file_order_func);
	g_test_add_func("/service/manifest-errors", test_service_manifest_errors_func);
	g_test_add_func("/service/manifest-unreadable", test_service_manifest_unreadable_func);
	g_test_add_func("/service/schema-errors", test_service_schema_errors_func);
	g_test_add_func("/service/duplicates", test_service_duplicates_func);
	g_test_add_func("/service/scan-dirs", test_service_scan_dirs_func);
	g_test_add_func("/service/missing-dir", test_service_missing_dir_func);
	g_test_add_func("/service/unreadable-dir", test_service_unreadable_dir_func);
	g_test_add_func("/service/exec-errors", test_service_exec_errors_func);
	g_test_add_func("/service/exec-ok", test_service_exec_ok_func);
	g_test_add_func("/service/list-json", test_service_list_json_func);
	g_test_add_func("/service/detail-json", test_service_detail_json_func);
	g_test_add_func("/service/scan-log", test_service_scan_log_func);

	return g_test_run();
}
