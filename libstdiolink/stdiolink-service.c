#include "config.h"

#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "stdiolink-error.h"
#include "stdiolink-json.h"
#include "stdiolink-service.h"
#include "stdiolink-util.h"

/*
 * A service folder as loaded from disk (scanning.md 2.1, data-root.md 5), plus our native
 * services: `"runtime": "exec"` runs `"entry"` directly instead of `index.js`. Objects are
 * built completely in stdiolink_service_load() and never change afterwards, so a worker
 * thread may load them and hand them to the main thread.
 */

#define DEFAULT_EXEC_ENTRY "run"

struct _StdiolinkService {
	GObject parent_instance;

	char *id;
	char *name;
	char *version;
	char *description;
	char *author;
	char *dir;
	char *entry_path;
	gboolean native;
	JsonObject *manifest;
	StdiolinkSchema *schema;
	JsonObject *raw_schema;
};

G_DEFINE_FINAL_TYPE(StdiolinkService, stdiolink_service, G_TYPE_OBJECT)

static void
stdiolink_service_finalize(GObject *object)
{
	StdiolinkService *self = STDIOLINK_SERVICE(object);

	g_free(self->id);
	g_free(self->name);
	g_free(self->version);
	g_free(self->description);
	g_free(self->author);
	g_free(self->dir);
	g_free(self->entry_path);
	g_clear_pointer(&self->manifest, json_object_unref);
	g_clear_pointer(&self->schema, stdiolink_schema_unref);
	g_clear_pointer(&self->raw_schema, json_object_unref);

	G_OBJECT_CLASS(stdiolink_service_parent_class)->finalize(object);
}

static void
stdiolink_service_class_init(StdiolinkServiceClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = stdiolink_service_finalize;
}

static void
stdiolink_service_init(StdiolinkService *self)
{
}

/* ---- directory enumeration ----------------------------------------------------------- */

static char *
sort_key(const char *name)
{
	if (g_utf8_validate(name, -1, NULL))
		return g_utf8_casefold(name, -1);
	return g_ascii_strdown(name, -1);
}

/**
 * stdiolink_scan_compare_names:
 * @a: a file name
 * @b: a file name
 *
 * The order of every scan: case-insensitive, ties broken by the exact bytes so that the
 * order is stable.
 *
 * Returns: a negative value, zero or a positive value, as strcmp()
 */
gint
stdiolink_scan_compare_names(const char *a, const char *b)
{
	g_autofree char *key_a = sort_key(a);
	g_autofree char *key_b = sort_key(b);
	int cmp = strcmp(key_a, key_b);

	return cmp != 0 ? cmp : strcmp(a, b);
}

static gint
compare_names(gconstpointer a, gconstpointer b)
{
	return stdiolink_scan_compare_names(*(const char *const *)a, *(const char *const *)b);
}

/**
 * stdiolink_scan_sort_names:
 * @names: (element-type filename): file names
 *
 * Sorts @names in place in the order of every scan, see stdiolink_scan_compare_names().
 */
void
stdiolink_scan_sort_names(GPtrArray *names)
{
	g_return_if_fail(names != NULL);

	g_ptr_array_sort(names, compare_names);
}

/**
 * stdiolink_scan_list_subdirs:
 * @parent: a folder
 *
 * Lists the folders a scan looks at (scanning.md section 1): immediate sub-directories,
 * symbolic links to directories included, hidden (dot) entries excluded, sorted by name
 * case-insensitively. A missing @parent gives an empty list; a @parent that exists but
 * cannot be read (permissions, out of descriptors) is an error, so that a scan never takes
 * a passing failure for an empty folder.
 *
 * Returns: (transfer full) (element-type utf8) (nullable): the names, without the parent
 *   path, or %NULL with @error set
 */
GPtrArray *
stdiolink_scan_list_subdirs(const char *parent, GError **error)
{
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GDir) dir = NULL;
	g_autoptr(GError) local_error = NULL;
	const char *name;

	g_return_val_if_fail(parent != NULL, NULL);

	dir = g_dir_open(parent, 0, &local_error);
	if (dir == NULL) {
		if (g_error_matches(local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			return g_steal_pointer(&names);
		g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_INTERNAL,
			    "cannot read folder %s: %s", parent, local_error->message);
		return NULL;
	}

	while ((name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *path = NULL;

		if (name[0] == '.')
			continue;
		path = g_build_filename(parent, name, NULL);
		if (g_file_test(path, G_FILE_TEST_IS_DIR))
			g_ptr_array_add(names, g_strdup(name));
	}
	stdiolink_scan_sort_names(names);
	return g_steal_pointer(&names);
}

/* ---- loading ----------------------------------------------------------------------- */

static gboolean
require_file(const char *dir, const char *name, GError **error)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);

	if (g_file_test(path, G_FILE_TEST_EXISTS))
		return TRUE;
	return stdiolink_set_invalid_data(error, "missing %s in service directory: %s", name, dir);
}

/* reads @path as a JSON object; @what names the file in the open error */
static JsonObject *
read_json_object(const char *path, const char *what, GError **error)
{
	g_autofree char *contents = NULL;
	g_autofree char *basename = g_path_get_basename(path);
	g_autoptr(GError) local_error = NULL;
	g_autoptr(JsonNode) root = NULL;
	gsize length;

	if (!g_file_get_contents(path, &contents, &length, NULL)) {
		stdiolink_set_invalid_data(error, "cannot open %s file: %s", what, path);
		return NULL;
	}
	root = stdiolink_json_parse(contents, (gssize)length, &local_error);
	if (root == NULL) {
		stdiolink_set_invalid_data(error, "%s parse error: %s", basename,
					   local_error->message);
		return NULL;
	}
	if (!JSON_NODE_HOLDS_OBJECT(root)) {
		stdiolink_set_invalid_data(error, "%s must contain a JSON object", basename);
		return NULL;
	}
	return json_object_ref(json_node_get_object(root));
}

/* Qt's QJsonValue::toString(): the string, or "" for any other type or when absent */
static const char *
member_string(JsonObject *object, const char *member)
{
	const char *value = stdiolink_json_object_get_string(object, member);

	return value != NULL ? value : "";
}

static gboolean
check_manifest_keys(JsonObject *manifest, GError **error)
{
	static const char *const known[] = {"manifestVersion", "id", "name", "version",
					    "description", "author", "runtime", "entry", NULL};
	g_autoptr(GList) members = stdiolink_json_object_get_sorted_members(manifest);

	for (GList *l = members; l != NULL; l = l->next) {
		if (!g_strv_contains(known, l->data))
			return stdiolink_set_invalid_data(error,
							  "unknown field in manifest.json: \"%s\"",
							  (const char *)l->data);
	}
	return TRUE;
}

static gboolean
check_manifest_required(JsonObject *manifest, GError **error)
{
	static const char *const required[] = {"id", "name", "version"};
	const char *version;

	if (!json_object_has_member(manifest, "manifestVersion"))
		return stdiolink_set_invalid_data(error, "missing required field: manifestVersion");
	version = member_string(manifest, "manifestVersion");
	if (!g_str_equal(version, "1"))
		return stdiolink_set_invalid_data(
		    error, "unsupported manifestVersion: \"%s\" (expected \"1\")", version);

	/* a non-string value counts as missing */
	for (guint i = 0; i < G_N_ELEMENTS(required); i++) {
		if (*member_string(manifest, required[i]) == '\0')
			return stdiolink_set_invalid_data(error, "missing required field: %s",
							  required[i]);
	}
	return TRUE;
}

static gboolean
check_manifest_runtime(JsonObject *manifest, GError **error)
{
	const char *runtime = member_string(manifest, "runtime");
	JsonNode *entry = json_object_get_member(manifest, "entry");
	gboolean native = g_str_equal(runtime, "exec");

	if (json_object_has_member(manifest, "runtime") && !native &&
	    !g_str_equal(runtime, "js"))
		return stdiolink_set_invalid_data(
		    error, "unsupported runtime: \"%s\" (expected \"js\" or \"exec\")", runtime);
	if (entry == NULL)
		return TRUE;
	if (!stdiolink_json_node_is_string(entry) || *json_node_get_string(entry) == '\0')
		return stdiolink_set_invalid_data(
		    error, "manifest field \"entry\" must be a non-empty string");
	if (!native)
		return stdiolink_set_invalid_data(
		    error, "manifest field \"entry\" requires \"runtime\": \"exec\"");
	return TRUE;
}

/**
 * stdiolink_service_check_manifest:
 * @manifest: a parsed `manifest.json`
 * @error: return location for a #GError
 *
 * The manifest rules of data-root.md section 5 plus ours for `runtime` and `entry`, with
 * the messages of scanning.md 2.1 (%STDIOLINK_ERROR_INVALID_DATA). Whether a native
 * entry exists is a load check, not a manifest rule.
 *
 * Returns: %TRUE if @manifest passes
 */
gboolean
stdiolink_service_check_manifest(JsonObject *manifest, GError **error)
{
	g_return_val_if_fail(manifest != NULL, FALSE);

	return check_manifest_keys(manifest, error) && check_manifest_required(manifest, error) &&
	       check_manifest_runtime(manifest, error);
}

/* the manifest as the API shows it: optional strings only when non-empty */
static JsonObject *
build_manifest_view(StdiolinkService *self, JsonObject *manifest)
{
	JsonObject *view = json_object_new();

	json_object_set_string_member(view, "manifestVersion", "1");
	json_object_set_string_member(view, "id", self->id);
	json_object_set_string_member(view, "name", self->name);
	json_object_set_string_member(view, "version", self->version);
	if (*self->description != '\0')
		json_object_set_string_member(view, "description", self->description);
	if (*self->author != '\0')
		json_object_set_string_member(view, "author", self->author);
	if (json_object_has_member(manifest, "runtime"))
		json_object_set_string_member(view, "runtime", member_string(manifest, "runtime"));
	if (json_object_has_member(manifest, "entry"))
		json_object_set_string_member(view, "entry", member_string(manifest, "entry"));
	json_object_seal(view);
	return view;
}

static gboolean
load_manifest(StdiolinkService *self, GError **error)
{
	g_autofree char *path = g_build_filename(self->dir, "manifest.json", NULL);
	g_autoptr(JsonObject) manifest = read_json_object(path, "manifest", error);

	if (manifest == NULL)
		return FALSE;
	if (!check_manifest_keys(manifest, error) || !check_manifest_required(manifest, error) ||
	    !check_manifest_runtime(manifest, error))
		return FALSE;

	self->id = g_strdup(member_string(manifest, "id"));
	self->name = g_strdup(member_string(manifest, "name"));
	self->version = g_strdup(member_string(manifest, "version"));
	self->description = g_strdup(member_string(manifest, "description"));
	self->author = g_strdup(member_string(manifest, "author"));
	self->native = g_str_equal(member_string(manifest, "runtime"), "exec");
	if (self->native && json_object_has_member(manifest, "entry"))
		self->entry_path = g_strdup(member_string(manifest, "entry"));
	else
		self->entry_path = g_strdup(self->native ? DEFAULT_EXEC_ENTRY : "index.js");
	self->manifest = build_manifest_view(self, manifest);
	return TRUE;
}

static gboolean
is_inside(const char *path, const char *dir)
{
	gsize len = strlen(dir);

	/* a lexical check: ".." cannot climb out, a symlink placed there by hand may */
	return strncmp(path, dir, len) == 0 && (path[len] == '/' || g_str_equal(dir, "/"));
}

static gboolean
check_exec_entry(const char *path, const char *relative, const char *dir, GError **error)
{
	if (g_path_is_absolute(relative) || !is_inside(path, dir))
		return stdiolink_set_invalid_data(error,
						  "service entry outside the service directory: %s",
						  relative);
	if (!g_file_test(path, G_FILE_TEST_EXISTS))
		return stdiolink_set_invalid_data(error, "service entry not found: %s", path);
	if (!g_file_test(path, G_FILE_TEST_IS_REGULAR))
		return stdiolink_set_invalid_data(error, "service entry is not a regular file: %s",
						  path);
	if (g_access(path, X_OK) != 0)
		return stdiolink_set_invalid_data(error, "service entry not executable: %s", path);
	return TRUE;
}

/* turns the entry named by the manifest into an absolute path, checking native entries */
static gboolean
resolve_entry(StdiolinkService *self, GError **error)
{
	g_autofree char *relative = g_steal_pointer(&self->entry_path);
	g_autofree char *path = g_canonicalize_filename(relative, self->dir);

	if (self->native && !check_exec_entry(path, relative, self->dir, error))
		return FALSE;
	self->entry_path = g_steal_pointer(&path);
	return TRUE;
}

static gboolean
load_schema(StdiolinkService *self, GError **error)
{
	g_autofree char *path = g_build_filename(self->dir, "config.schema.json", NULL);

	self->schema = stdiolink_schema_new_from_file(path, error);
	if (self->schema == NULL)
		return FALSE;

	/* the raw object is what the API shows as configSchema */
	self->raw_schema = read_json_object(path, "config schema", error);
	if (self->raw_schema == NULL)
		return FALSE;
	json_object_seal(self->raw_schema);
	return TRUE;
}

/*
 * The earlier server checked that all three files exist before it read the manifest. We
 * keep that order of messages for JavaScript services; only a manifest that parses and
 * says "exec" may do without index.js.
 */
static gboolean
check_files(StdiolinkService *self, gboolean manifest_ok, GError **error)
{
	if (!require_file(self->dir, "manifest.json", error))
		return FALSE;
	if (!(manifest_ok && self->native) && !require_file(self->dir, "index.js", error))
		return FALSE;
	return require_file(self->dir, "config.schema.json", error);
}

/**
 * stdiolink_service_load:
 * @dir: a service folder
 * @error: return location for a #GError
 *
 * Loads one service folder: `manifest.json`, `index.js` (not for `"runtime": "exec"`,
 * whose entry must be an executable regular file inside the folder) and
 * `config.schema.json`, with the checks and messages of scanning.md 2.1. Failures are
 * %STDIOLINK_ERROR_INVALID_DATA, or the schema parser's error. Safe to call from a worker
 * thread.
 *
 * Returns: (transfer full): the service, or %NULL with @error set
 */
StdiolinkService *
stdiolink_service_load(const char *dir, GError **error)
{
	g_autoptr(StdiolinkService) self = NULL;
	g_autoptr(GError) manifest_error = NULL;
	gboolean manifest_ok;

	g_return_val_if_fail(dir != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	self = g_object_new(STDIOLINK_TYPE_SERVICE, NULL);
	self->dir = g_canonicalize_filename(dir, NULL);
	if (!g_file_test(self->dir, G_FILE_TEST_IS_DIR)) {
		stdiolink_set_invalid_data(error, "service directory does not exist: %s",
					   self->dir);
		return NULL;
	}

	/* the manifest decides whether index.js is needed; its errors come after the files */
	manifest_ok = load_manifest(self, &manifest_error);
	if (!check_files(self, manifest_ok, error))
		return NULL;
	if (!manifest_ok) {
		g_propagate_error(error, g_steal_pointer(&manifest_error));
		return NULL;
	}

	if (!resolve_entry(self, error) || !load_schema(self, error))
		return NULL;
	return g_steal_pointer(&self);
}

static void
log_skipped(const char *dir, const char *reason)
{
	g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING,
			 "STDIOLINK_SERVICE_DIR", dir,
			 "STDIOLINK_REASON", reason,
			 "MESSAGE", "service scan: skipping %s: %s", dir, reason);
}

static gboolean
has_service_id(GPtrArray *services, const char *id)
{
	for (guint i = 0; i < services->len; i++) {
		StdiolinkService *svc = g_ptr_array_index(services, i);

		if (g_str_equal(svc->id, id))
			return TRUE;
	}
	return FALSE;
}

/**
 * stdiolink_service_scan:
 * @services_dir: the `services/` folder
 * @stats: (out caller-allocates) (optional): the counters of the scan
 * @error: return location for a #GError
 *
 * Loads every service folder (scanning.md 2.1) in case-insensitive name order. A folder
 * that fails to load, or whose id an earlier folder already has, is skipped and logged
 * as a warning. A missing @services_dir gives an empty list; one that cannot be read is
 * an error (see stdiolink_scan_list_subdirs()). Safe to call from a worker thread.
 *
 * Returns: (transfer container) (element-type StdiolinkService) (nullable): the loaded
 *   services, or %NULL with @error set
 */
GPtrArray *
stdiolink_service_scan(const char *services_dir, StdiolinkServiceScanStats *stats,
		       GError **error)
{
	g_autoptr(GPtrArray) names = NULL;
	g_autoptr(GPtrArray) services = NULL;
	StdiolinkServiceScanStats counts = {0};

	g_return_val_if_fail(services_dir != NULL, NULL);

	names = stdiolink_scan_list_subdirs(services_dir, error);
	if (names == NULL)
		return NULL;
	services = g_ptr_array_new_with_free_func(g_object_unref);
	for (guint i = 0; i < names->len; i++) {
		g_autofree char *path = g_build_filename(services_dir, names->pdata[i], NULL);
		g_autoptr(GError) load_error = NULL;
		g_autoptr(StdiolinkService) svc = NULL;

		counts.scanned_dirs++;
		svc = stdiolink_service_load(path, &load_error);
		if (svc == NULL) {
			counts.failed_services++;
			log_skipped(path, load_error->message);
			continue;
		}

		/* the first folder in sort order keeps the id */
		if (has_service_id(services, svc->id)) {
			g_autofree char *reason = g_strdup_printf("duplicate service id '%s'",
								  svc->id);

			counts.failed_services++;
			log_skipped(path, reason);
			continue;
		}

		counts.loaded_services++;
		g_ptr_array_add(services, g_steal_pointer(&svc));
	}

	if (stats != NULL)
		*stats = counts;
	return g_steal_pointer(&services);
}

/* ---- accessors --------------------------------------------------------------------- */

/**
 * stdiolink_service_get_id:
 * @self: a #StdiolinkService
 *
 * Returns: the manifest `id`
 */
const char *
stdiolink_service_get_id(StdiolinkService *self)
{
	g_return_val_if_fail(STDIOLINK_IS_SERVICE(self), NULL);
	return self->id;
}

/**
 * stdiolink_service_get_name:
 * @self: a #StdiolinkService
 *
 * Returns: the manifest `name`
 */
const char *
stdiolink_service_get_name(StdiolinkService *self)
{
	g_return_val_if_fail(STDIOLINK_IS_SERVICE(self), NULL);
	return self->name;
}

/**
 * stdiolink_service_get_version:
 * @self: a #StdiolinkService
 *
 * Returns: the manifest `version`
 */
const char *
stdiolink_service_get_version(StdiolinkService *self)
{
	g_return_val_if_fail(STDIOLINK_IS_SERVICE(self), NULL);
	return self->version;
}

/**
 * stdiolink_service_get_description:
 * @self: a #StdiolinkService
 *
 * Returns: the manifest `description`, "" if absent
 */
const char *
stdiolink_service_get_description(StdiolinkService *self)
{
	g_return_val_if_fail(STDIOLINK_IS_SERVICE(self), NULL);
	return self->description;
}

/**
 * stdiolink_service_get_author:
 * @self: a #StdiolinkService
 *
 * Returns: the manifest `author`, "" if absent
 */
const char *
stdiolink_service_get_author(StdiolinkService *self)
{
	g_return_val_if_fail(STDIOLINK_IS_SERVICE(self), NULL);
	return self->author;
}

/**
 * stdiolink_service_get_dir:
 * @self: a #StdiolinkService
 *
 * Returns: the absolute service folder
 */
const char *
stdiolink_service_get_dir(StdiolinkService *self)
{
	g_return_val_if_fail(STDIOLINK_IS_SERVICE(self), NULL);
	return self->dir;
}

/**
 * stdiolink_service_get_manifest:
 * @self: a #StdiolinkService
 *
 * The manifest as the API shows it: `manifestVersion`, `id`, `name`, `version`,
 * `description` and `author` when non-empty, `runtime` and `entry` when the file has them.
 *
 * Returns: (transfer none): a sealed object
 */
JsonObject *
stdiolink_service_get_manifest(StdiolinkService *self)
{
	g_return_val_if_fail(STDIOLINK_IS_SERVICE(self), NULL);
	return self->manifest;
}

/**
 * stdiolink_service_get_schema:
 * @self: a #StdiolinkService
 *
 * Returns: (transfer none): the parsed config schema
 */
StdiolinkSchema *
stdiolink_service_get_schema(StdiolinkService *self)
{
	g_return_val_if_fail(STDIOLINK_IS_SERVICE(self), NULL);
	return self->schema;
}

/**
 * stdiolink_service_get_raw_schema:
 * @self: a #StdiolinkService
 *
 * Returns: (transfer none): `config.schema.json` as on disk, a sealed object
 */
JsonObject *
stdiolink_service_get_raw_schema(StdiolinkService *self)
{
	g_return_val_if_fail(STDIOLINK_IS_SERVICE(self), NULL);
	return self->raw_schema;
}

/**
 * stdiolink_service_is_native:
 * @self: a #StdiolinkService
 *
 * Returns: %TRUE for `"runtime": "exec"` services, run directly instead of by the
 *   service program
 */
gboolean
stdiolink_service_is_native(StdiolinkService *self)
{
	g_return_val_if_fail(STDIOLINK_IS_SERVICE(self), FALSE);
	return self->native;
}

/**
 * stdiolink_service_get_runtime:
 * @self: a #StdiolinkService
 *
 * Returns: `exec` for native services, `js` otherwise
 */
const char *
stdiolink_service_get_runtime(StdiolinkService *self)
{
	g_return_val_if_fail(STDIOLINK_IS_SERVICE(self), NULL);
	return self->native ? "exec" : "js";
}

/**
 * stdiolink_service_get_entry_path:
 * @self: a #StdiolinkService
 *
 * Returns: the absolute path of the program to run (native services) or of `index.js`
 */
const char *
stdiolink_service_get_entry_path(StdiolinkService *self)
{
	g_return_val_if_fail(STDIOLINK_IS_SERVICE(self), NULL);
	return self->entry_path;
}

/* ---- JSON views -------------------------------------------------------------------- */

/**
 * stdiolink_path_display:
 * @path: an absolute path
 * @data_root: the absolute data root
 *
 * Returns: (transfer full): @path relative to @data_root (`services/demo`), or `--` if it
 *   is not inside it
 */
char *
stdiolink_path_display(const char *path, const char *data_root)
{
	g_autofree char *root = g_canonicalize_filename(data_root, NULL);
	g_autofree char *full = g_canonicalize_filename(path, NULL);
	gsize len = strlen(root);

	if (g_str_equal(root, full))
		return g_strdup(".");
	if (!is_inside(full, root))
		return g_strdup("--");
	return g_strdup(full + len + (full[len] == '/' ? 1 : 0));
}

static JsonObject *
build_common_view(StdiolinkService *self, const char *data_root)
{
	JsonObject *object = json_object_new();
	g_autofree char *display = stdiolink_path_display(self->dir, data_root);

	json_object_set_string_member(object, "id", self->id);
	json_object_set_string_member(object, "name", self->name);
	json_object_set_string_member(object, "version", self->version);
	json_object_set_string_member(object, "serviceDir", self->dir);
	json_object_set_string_member(object, "serviceDirDisplay", display);
	json_object_set_string_member(object, "runtime", stdiolink_service_get_runtime(self));
	return object;
}

/**
 * stdiolink_service_to_list_json:
 * @self: a #StdiolinkService
 * @data_root: the absolute data root
 * @project_count: how many projects use this service
 *
 * Renders one entry of `GET /api/services` (http-api.md 4.1), plus `runtime`.
 *
 * Returns: (transfer full): an object node
 */
JsonNode *
stdiolink_service_to_list_json(StdiolinkService *self, const char *data_root, guint project_count)
{
	JsonObject *object;

	g_return_val_if_fail(STDIOLINK_IS_SERVICE(self), NULL);
	g_return_val_if_fail(data_root != NULL, NULL);

	object = build_common_view(self, data_root);
	json_object_set_boolean_member(object, "hasSchema", TRUE);
	json_object_set_int_member(object, "projectCount", project_count);
	return stdiolink_json_node_new_object(object);
}

static JsonArray *
sorted_string_array(const char *const *strings)
{
	g_autoptr(GPtrArray) sorted = g_ptr_array_new();
	JsonArray *array = json_array_new();

	for (guint i = 0; strings != NULL && strings[i] != NULL; i++)
		g_ptr_array_add(sorted, (gpointer)strings[i]);
	stdiolink_sort_strings(sorted);
	for (guint i = 0; i < sorted->len; i++)
		json_array_add_string_element(array, sorted->pdata[i]);
	return array;
}

/**
 * stdiolink_service_to_detail_json:
 * @self: a #StdiolinkService
 * @data_root: the absolute data root
 * @project_ids: (nullable) (array zero-terminated=1): ids of the projects using it
 *
 * Renders `GET /api/services/{id}` (http-api.md 4.4), plus `runtime`: the manifest view,
 * the raw `configSchema`, `configSchemaFields` and the sorted project ids.
 *
 * Returns: (transfer full): an object node
 */
JsonNode *
stdiolink_service_to_detail_json(StdiolinkService *self,
				 const char *data_root,
				 const char *const *project_ids)
{
	JsonObject *object;

	g_return_val_if_fail(STDIOLINK_IS_SERVICE(self), NULL);
	g_return_val_if_fail(data_root != NULL, NULL);

	object = build_common_view(self, data_root);
	json_object_set_object_member(object, "manifest", json_object_ref(self->manifest));
	json_object_set_object_member(object, "configSchema", json_object_ref(self->raw_schema));
	json_object_set_member(object, "configSchemaFields",
			       stdiolink_schema_to_json(self->schema));
	json_object_set_array_member(object, "projects", sorted_string_array(project_ids));
	return stdiolink_json_node_new_object(object);
}
