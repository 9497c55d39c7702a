#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "stdiolink-error.h"
#include "stdiolink-json.h"
#include "stdiolink-project.h"
#include "stdiolink-util.h"

/*
 * A project is a plain model object. The daemon owns its projects on the main thread; the
 * loaders below build new objects from files and touch nothing shared, so they may run in
 * worker threads. Config objects are never modified in place (they may be immutable trees
 * from the parser and may be shared between copies); they are only replaced.
 */

struct _StdiolinkProject {
	GObject parent_instance;

	char *id;
	char *name;
	char *service_id;
	gboolean enabled;
	StdiolinkSchedule schedule;
	JsonObject *config;

	gboolean valid;
	char *error;
	/* a load error sticks until the project is loaded again; validation cannot lift it */
	gboolean load_failed;
};

G_DEFINE_FINAL_TYPE(StdiolinkProject, stdiolink_project, G_TYPE_OBJECT)

#define CONFIG_FILE "config.json"
#define PARAM_FILE "param.json"

static void
stdiolink_project_finalize(GObject *object)
{
	StdiolinkProject *self = STDIOLINK_PROJECT(object);

	g_free(self->id);
	g_free(self->name);
	g_free(self->service_id);
	g_clear_pointer(&self->config, json_object_unref);
	g_free(self->error);

	G_OBJECT_CLASS(stdiolink_project_parent_class)->finalize(object);
}

static void
stdiolink_project_class_init(StdiolinkProjectClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = stdiolink_project_finalize;
}

static void
stdiolink_project_init(StdiolinkProject *self)
{
	self->name = g_strdup("");
	self->service_id = g_strdup("");
	self->enabled = TRUE;
	stdiolink_schedule_init(&self->schedule);
	self->config = json_object_new();
	self->valid = TRUE;
}

static StdiolinkProject *
project_new(const char *id)
{
	StdiolinkProject *self = g_object_new(STDIOLINK_TYPE_PROJECT, NULL);

	self->id = g_strdup(id);
	return self;
}

/* body parser (http-api.md 5.3), one step per table row */

static gboolean
check_keys(JsonObject *body, gboolean allow_config, GError **error)
{
	static const char *const known[] = {
		"id", "name", "serviceId", "enabled", "schedule", NULL,
	};
	g_autoptr(GList) members = NULL;

	if (!allow_config && json_object_has_member(body, "config")) {
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
				    "project metadata file must not contain 'config'; "
				    "move service parameters to param.json");
		return FALSE;
	}

	/* the earlier server met the keys in code-point order: the first unknown one is named */
	members = stdiolink_json_object_get_sorted_members(body);
	for (GList *l = members; l != NULL; l = l->next) {
		const char *key = l->data;

		if (g_strv_contains(known, key))
			continue;
		if (allow_config && g_str_equal(key, "config"))
			continue;
		g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
			    "unknown field in project config: %s", key);
		return FALSE;
	}
	return TRUE;
}

static gboolean
check_body_id(JsonObject *body, const char *id, GError **error)
{
	JsonNode *node = json_object_get_member(body, "id");
	const char *body_id;

	if (node == NULL)
		return TRUE;
	if (!stdiolink_json_node_is_string(node)) {
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
				    "project field 'id' must be a string");
		return FALSE;
	}

	body_id = json_node_get_string(node);
	if (*body_id != '\0' && g_strcmp0(body_id, id) != 0) {
		g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
			    "project id mismatch: body=%s, path=%s", body_id, id);
		return FALSE;
	}
	return TRUE;
}

/* a required non-empty string; the value is kept even when empty (load keeps what it read) */
static gboolean
parse_required_string(JsonObject *body,
		      const char *key,
		      const char *empty_message,
		      char **out,
		      GError **error)
{
	const char *value = stdiolink_json_object_get_string(body, key);

	if (value == NULL) {
		g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
			    "missing required string field: %s", key);
		return FALSE;
	}

	g_free(*out);
	*out = g_strdup(value);
	if (*value == '\0') {
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
				    empty_message);
		return FALSE;
	}
	return TRUE;
}

static gboolean
parse_enabled(StdiolinkProject *self, JsonObject *body, GError **error)
{
	JsonNode *node = json_object_get_member(body, "enabled");

	if (node == NULL)
		return TRUE;
	if (!stdiolink_json_node_is_bool(node)) {
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
				    "project field 'enabled' must be a bool");
		return FALSE;
	}
	self->enabled = json_node_get_boolean(node);
	return TRUE;
}

static gboolean
parse_config(StdiolinkProject *self, JsonObject *body, GError **error)
{
	JsonNode *node = json_object_get_member(body, "config");

	if (node == NULL)
		return TRUE;
	if (!JSON_NODE_HOLDS_OBJECT(node)) {
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
				    "project field 'config' must be an object");
		return FALSE;
	}
	stdiolink_project_set_config(self, json_node_get_object(node));
	return TRUE;
}

/* fills @self from @body in table order; on failure @self keeps what was parsed before */
static gboolean
parse_body(StdiolinkProject *self, JsonObject *body, gboolean allow_config, GError **error)
{
	if (!check_keys(body, allow_config, error))
		return FALSE;
	if (!check_body_id(body, self->id, error))
		return FALSE;
	if (!parse_required_string(body, "name", "project name cannot be empty", &self->name,
				   error))
		return FALSE;
	if (!parse_required_string(body, "serviceId", "project serviceId cannot be empty",
				   &self->service_id, error))
		return FALSE;
	if (!parse_enabled(self, body, error))
		return FALSE;
	if (!stdiolink_schedule_parse(json_object_get_member(body, "schedule"), &self->schedule,
				      error))
		return FALSE;
	if (allow_config && !parse_config(self, body, error))
		return FALSE;
	return TRUE;
}

/**
 * stdiolink_project_new_from_json:
 * @id: the project id (from the path or the directory name)
 * @body: the project object (API body or `config.json`)
 * @allow_config: %TRUE for API bodies; %FALSE for `config.json`, where a `config` key is
 *   refused
 * @error: return location for a #GError (%STDIOLINK_ERROR_BAD_REQUEST)
 *
 * Parses a project body as http-api.md 5.3 describes: checks in table order, unknown keys
 * first, with its exact messages. @id itself is not checked against the id rule. The new
 * project is valid until stdiolink_project_validate() says otherwise.
 *
 * Returns: (transfer full) (nullable): the project, or %NULL with @error set
 */
StdiolinkProject *
stdiolink_project_new_from_json(const char *id,
				JsonObject *body,
				gboolean allow_config,
				GError **error)
{
	g_autoptr(StdiolinkProject) self = project_new(id);

	if (!parse_body(self, body, allow_config, error))
		return NULL;
	return g_steal_pointer(&self);
}

/* loading (data-root.md 6.3) */

static void
mark_load_failed(StdiolinkProject *self, const char *message)
{
	stdiolink_project_set_invalid(self, message);
	self->load_failed = TRUE;
}

/* reads one JSON object file; @what is "config" or "param"; the message names the failure */
static JsonNode *
read_object_file(const char *path, const char *what, gboolean *missing, char **message)
{
	g_autofree char *data = NULL;
	gsize length = 0;
	g_autoptr(GError) local_error = NULL;
	g_autoptr(JsonNode) root = NULL;

	*missing = FALSE;
	if (!g_file_get_contents(path, &data, &length, &local_error)) {
		*missing = g_error_matches(local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
		*message = g_strdup_printf("cannot open project %s file: %s", what, path);
		return NULL;
	}

	root = stdiolink_json_parse(data, (gssize)length, &local_error);
	if (root == NULL) {
		*message = g_strdup_printf("project %s file parse error: %s", what,
					   local_error->message);
		return NULL;
	}

	if (!JSON_NODE_HOLDS_OBJECT(root)) {
		*message = g_strdup_printf("project %s file must contain a JSON object", what);
		return NULL;
	}
	return g_steal_pointer(&root);
}

static gboolean
load_metadata(StdiolinkProject *self, const char *dir)
{
	g_autofree char *path = g_build_filename(dir, CONFIG_FILE, NULL);
	g_autofree char *message = NULL;
	g_autoptr(JsonNode) root = NULL;
	g_autoptr(GError) local_error = NULL;
	gboolean missing;

	root = read_object_file(path, "config", &missing, &message);
	if (root == NULL) {
		mark_load_failed(self, message);
		return FALSE;
	}

	if (!parse_body(self, json_node_get_object(root), FALSE, &local_error)) {
		mark_load_failed(self, local_error->message);
		return FALSE;
	}
	return TRUE;
}

static void
load_params(StdiolinkProject *self, const char *dir)
{
	g_autofree char *path = g_build_filename(dir, PARAM_FILE, NULL);
	g_autofree char *message = NULL;
	g_autoptr(JsonNode) root = NULL;
	gboolean missing;

	root = read_object_file(path, "param", &missing, &message);
	if (root != NULL) {
		stdiolink_project_set_config(self, json_node_get_object(root));
		return;
	}

	/* a project without parameters has the empty config */
	if (!missing)
		mark_load_failed(self, message);
}

/**
 * stdiolink_project_load:
 * @projects_dir: the `projects/` folder of the data root
 * @id: the project id, the name of its folder
 *
 * Loads `<id>/config.json` and `<id>/param.json` (a missing param file is `{}`). A load
 * error does not fail the call: the project comes back invalid with the error text of
 * data-root.md 6.3 and keeps the fields parsed before the error. A project that loaded is
 * valid until stdiolink_project_validate() checks it against its service. Touches no
 * shared state, so it may run in a worker thread.
 *
 * Returns: (transfer full): the project, never %NULL
 */
StdiolinkProject *
stdiolink_project_load(const char *projects_dir, const char *id)
{
	StdiolinkProject *self = project_new(id);
	g_autofree char *dir = NULL;

	if (!stdiolink_is_valid_project_id(id)) {
		g_autofree char *message = g_strdup_printf("invalid project id: %s", id);

		mark_load_failed(self, message);
		return self;
	}

	dir = g_build_filename(projects_dir, id, NULL);
	if (load_metadata(self, dir))
		load_params(self, dir);
	return self;
}

/* names of the sub-folders that can be projects, in code-point order */
static GPtrArray *
list_project_dirs(const char *projects_dir)
{
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GDir) dir = g_dir_open(projects_dir, 0, NULL);
	const char *name;

	if (dir == NULL)
		return names;

	while ((name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *path = NULL;

		if (name[0] == '.' || !stdiolink_is_valid_project_id(name))
			continue;
		path = g_build_filename(projects_dir, name, NULL);
		if (g_file_test(path, G_FILE_TEST_IS_DIR))
			g_ptr_array_add(names, g_strdup(name));
	}

	stdiolink_sort_strings(names);
	return names;
}

/**
 * stdiolink_project_load_all:
 * @projects_dir: the `projects/` folder of the data root
 *
 * Loads every project folder (data-root.md 6.3): hidden folders and folders whose name is
 * not a project id are skipped, files are ignored, the result is sorted by id. A missing
 * @projects_dir gives an empty array. Thread-safe like stdiolink_project_load().
 *
 * Returns: (transfer full) (element-type StdiolinkProject): the projects
 */
GPtrArray *
stdiolink_project_load_all(const char *projects_dir)
{
	GPtrArray *projects = g_ptr_array_new_with_free_func(g_object_unref);
	g_autoptr(GPtrArray) names = list_project_dirs(projects_dir);

	for (guint i = 0; i < names->len; i++)
		g_ptr_array_add(projects,
				stdiolink_project_load(projects_dir, g_ptr_array_index(names, i)));
	return projects;
}

/**
 * stdiolink_project_validate:
 * @p: a project
 * @service_id_found: (nullable): id of the loaded service the caller found for the
 *   project's `serviceId`, or %NULL if there is none
 * @schema: (nullable): that service's config schema, or %NULL if there is no service
 *
 * Computes validity (scheduling.md 1). Without a service the project becomes invalid with
 * `service not found: <serviceId>`. Otherwise its config is merged with the schema's
 * defaults and validated: on success the merged object becomes the config, the error is
 * cleared and the project is valid; on failure the config is left as it was and the error
 * is the validation text. A project whose files failed to load stays invalid with its load
 * error until it is loaded again.
 */
void
stdiolink_project_validate(StdiolinkProject *p,
			   const char *service_id_found,
			   StdiolinkSchema *schema)
{
	g_autoptr(JsonObject) file_config = NULL;
	StdiolinkValidation *v;

	g_return_if_fail(STDIOLINK_IS_PROJECT(p));

	if (p->load_failed)
		return;

	if (schema == NULL || service_id_found == NULL) {
		g_autofree char *message = g_strdup_printf("service not found: %s", p->service_id);

		stdiolink_project_set_invalid(p, message);
		return;
	}

	/* the server has no file config: the project config overrides an empty one */
	file_config = json_object_new();
	v = stdiolink_schema_merge_and_validate(schema, file_config, p->config);
	if (v->valid) {
		stdiolink_project_set_config(p, v->filled);
		p->valid = TRUE;
		g_clear_pointer(&p->error, g_free);
	} else {
		g_autofree char *text = stdiolink_validation_to_string(v);

		stdiolink_project_set_invalid(p, text);
	}
	stdiolink_validation_free(v);
}

/* saving (data-root.md 6.4) */

typedef struct {
	char *final_path;
	char *temp_path;
	char *backup_path;
	gboolean moved_aside;
	gboolean installed;
} SaveFile;

static void
save_file_clear(SaveFile *f)
{
	g_free(f->final_path);
	g_free(f->temp_path);
	g_free(f->backup_path);
}

static gboolean
write_all(int fd, const char *data, gsize length)
{
	while (length > 0) {
		gssize n = write(fd, data, length);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return FALSE;
		data += n;
		length -= (gsize)n;
	}
	return TRUE;
}

static gboolean
fill_temp(int fd, const char *final_path, const char *contents, GError **error)
{
	/* the installed file keeps this mode whatever the umask */
	if (fchmod(fd, 0600) != 0 || !write_all(fd, contents, strlen(contents))) {
		g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_INTERNAL,
			    "write failed (incomplete): %s", final_path);
		return FALSE;
	}
	if (fsync(fd) != 0) {
		g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_INTERNAL,
			    "cannot flush temp file for: %s", final_path);
		return FALSE;
	}
	return TRUE;
}

/* writes @contents to `<final>.XXXXXX.tmp` next to the final file, flushed to disk */
static gboolean
write_temp(SaveFile *f, const char *contents, GError **error)
{
	g_autofree char *tmpl = g_strconcat(f->final_path, ".XXXXXX.tmp", NULL);
	int fd = g_mkstemp_full(tmpl, O_RDWR | O_CLOEXEC, 0600);
	gboolean ok;

	if (fd < 0) {
		g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_INTERNAL,
			    "cannot create temp file for: %s", f->final_path);
		return FALSE;
	}
	f->temp_path = g_steal_pointer(&tmpl);

	ok = fill_temp(fd, f->final_path, contents, error);
	if (close(fd) != 0 && ok) {
		g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_INTERNAL,
			    "cannot flush temp file for: %s", f->final_path);
		ok = FALSE;
	}
	return ok;
}

/*
 * Keeps the old file as `<final>.bak.<uuid>`. A hard link leaves the final file in place,
 * so even a crash in the middle of a save never leaves a project without its files; where
 * the file system has no hard links the file is moved aside instead. Anything that is not
 * a regular file is refused rather than replaced.
 */
static gboolean
backup_file(SaveFile *f, const char *uuid, GError **error)
{
	GStatBuf st;
	g_autofree char *backup = g_strconcat(f->final_path, ".bak.", uuid, NULL);
	gboolean ok;

	if (g_lstat(f->final_path, &st) != 0) {
		if (errno == ENOENT)
			return TRUE;
		/* cannot tell what is there: refuse below */
		st.st_mode = 0;
	}

	ok = S_ISREG(st.st_mode) && link(f->final_path, backup) == 0;
	if (!ok && S_ISREG(st.st_mode)) {
		ok = g_rename(f->final_path, backup) == 0;
		f->moved_aside = ok;
	}
	if (!ok) {
		g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_INTERNAL,
			    "cannot backup file: %s", f->final_path);
		return FALSE;
	}
	f->backup_path = g_steal_pointer(&backup);
	return TRUE;
}

static gboolean
install_file(SaveFile *f, GError **error)
{
	if (g_rename(f->temp_path, f->final_path) != 0) {
		g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_INTERNAL,
			    "cannot install file: %s", f->final_path);
		return FALSE;
	}
	f->installed = TRUE;
	g_clear_pointer(&f->temp_path, g_free);
	return TRUE;
}

/* puts one file back as it was before the save; returns FALSE if that failed */
static gboolean
restore_file(SaveFile *f)
{
	gboolean ok = TRUE;

	if (f->backup_path != NULL && (f->installed || f->moved_aside)) {
		ok = g_rename(f->backup_path, f->final_path) == 0;
	} else if (f->backup_path != NULL) {
		/* a hard-link backup of a file that was never replaced: the final is intact */
		g_unlink(f->backup_path);
	} else if (f->installed) {
		ok = g_unlink(f->final_path) == 0;
	}
	if (ok)
		g_clear_pointer(&f->backup_path, g_free);

	if (f->temp_path != NULL)
		g_unlink(f->temp_path);
	return ok;
}

static void
append_rollback_failure(GError **error, const char *path)
{
	char *message;

	if (error == NULL || *error == NULL)
		return;
	message = g_strconcat((*error)->message, "; rollback failed for: ", path, NULL);
	g_free((*error)->message);
	(*error)->message = message;
}

static void
roll_back(SaveFile *files, guint n_files, GError **error)
{
	for (guint i = 0; i < n_files; i++) {
		if (!restore_file(&files[i]))
			append_rollback_failure(error, files[i].final_path);
	}
}

static char *
metadata_to_string(StdiolinkProject *p)
{
	g_autoptr(JsonObject) obj = json_object_new();

	json_object_set_boolean_member(obj, "enabled", p->enabled);
	json_object_set_string_member(obj, "id", p->id);
	json_object_set_string_member(obj, "name", p->name);
	json_object_set_member(obj, "schedule", stdiolink_schedule_to_json(&p->schedule));
	json_object_set_string_member(obj, "serviceId", p->service_id);
	return stdiolink_json_object_to_string(obj, STDIOLINK_JSON_PRETTY);
}

static gboolean
make_project_dir(const char *projects_dir, const char *dir, GError **error)
{
	if (g_mkdir_with_parents(projects_dir, 0755) != 0) {
		g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_INTERNAL,
			    "cannot create projects directory: %s", projects_dir);
		return FALSE;
	}
	if (g_mkdir_with_parents(dir, 0755) != 0) {
		g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_INTERNAL,
			    "cannot create project directory: %s", dir);
		return FALSE;
	}
	return TRUE;
}

/* the transaction proper: temps, backups, installs; rolls back on any failure */
static gboolean
save_files(SaveFile *files, const char *const *contents, guint n_files, GError **error)
{
	g_autofree char *uuid = g_uuid_string_random();

	for (guint i = 0; i < n_files; i++) {
		if (!write_temp(&files[i], contents[i], error)) {
			roll_back(files, n_files, NULL);
			return FALSE;
		}
	}

	for (guint i = 0; i < n_files; i++) {
		if (!backup_file(&files[i], uuid, error)) {
			roll_back(files, n_files, error);
			return FALSE;
		}
	}

	for (guint i = 0; i < n_files; i++) {
		if (!install_file(&files[i], error)) {
			roll_back(files, n_files, error);
			return FALSE;
		}
	}

	/* the new pair is in place; a backup that stays behind is only clutter */
	for (guint i = 0; i < n_files; i++) {
		if (files[i].backup_path != NULL && g_unlink(files[i].backup_path) != 0)
			g_warning("cannot remove backup file %s", files[i].backup_path);
	}
	return TRUE;
}

/**
 * stdiolink_project_save:
 * @p: a project
 * @projects_dir: the `projects/` folder of the data root
 * @error: return location for a #GError
 *
 * Writes `<id>/config.json` (metadata, keys sorted, 4-space indentation) and
 * `<id>/param.json` (the config) as one transaction (data-root.md 6.4): both are written
 * to flushed temporary files first, then installed; if anything fails, the old pair is
 * left (or put back) as it was. Both files get mode 0600.
 *
 * Returns: %TRUE on success
 */
gboolean
stdiolink_project_save(StdiolinkProject *p, const char *projects_dir, GError **error)
{
	g_autofree char *dir = NULL;
	g_autofree char *metadata = NULL;
	g_autofree char *params = NULL;
	SaveFile files[2] = {{0}};
	const char *contents[2];
	gboolean ok;

	g_return_val_if_fail(STDIOLINK_IS_PROJECT(p), FALSE);

	if (!stdiolink_is_valid_project_id(p->id)) {
		g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
			    "invalid project id: %s", p->id);
		return FALSE;
	}

	dir = g_build_filename(projects_dir, p->id, NULL);
	if (!make_project_dir(projects_dir, dir, error))
		return FALSE;

	metadata = metadata_to_string(p);
	params = stdiolink_json_object_to_string(p->config, STDIOLINK_JSON_PRETTY);
	files[0].final_path = g_build_filename(dir, CONFIG_FILE, NULL);
	files[1].final_path = g_build_filename(dir, PARAM_FILE, NULL);
	contents[0] = metadata;
	contents[1] = params;

	ok = save_files(files, contents, G_N_ELEMENTS(files), error);

	for (guint i = 0; i < G_N_ELEMENTS(files); i++)
		save_file_clear(&files[i]);
	return ok;
}

/* deletes @path and everything below it without following symbolic links */
static gboolean
remove_tree(const char *path)
{
	GStatBuf st;
	g_autoptr(GDir) dir = NULL;
	const char *name;

	if (g_lstat(path, &st) != 0)
		return FALSE;
	if (!S_ISDIR(st.st_mode))
		return g_unlink(path) == 0;

	dir = g_dir_open(path, 0, NULL);
	if (dir == NULL)
		return FALSE;
	while ((name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *child = g_build_filename(path, name, NULL);

		if (!remove_tree(child))
			return FALSE;
	}
	return g_rmdir(path) == 0;
}

/**
 * stdiolink_project_remove:
 * @projects_dir: the `projects/` folder of the data root
 * @id: the project id
 * @error: return location for a #GError
 *
 * Deletes `<id>/` and everything in it. The folder is first renamed to a hidden name in
 * one step, so a failure leaves either the whole project or none of it: loaders skip
 * hidden folders, and what a failed recursive delete leaves behind is only logged. An id
 * that is not a project id or has no folder gives %STDIOLINK_ERROR_NOT_FOUND
 * `project not found: <id>`.
 *
 * Returns: %TRUE on success
 */
gboolean
stdiolink_project_remove(const char *projects_dir, const char *id, GError **error)
{
	g_autofree char *dir = NULL;
	g_autofree char *suffix = NULL;
	g_autofree char *doomed_name = NULL;
	g_autofree char *doomed = NULL;

	if (stdiolink_is_valid_project_id(id))
		dir = g_build_filename(projects_dir, id, NULL);
	if (dir == NULL || !g_file_test(dir, G_FILE_TEST_IS_DIR)) {
		g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_NOT_FOUND,
			    "project not found: %s", id);
		return FALSE;
	}

	suffix = stdiolink_random_hex(8);
	doomed_name = g_strdup_printf(".%s.removing-%s", id, suffix);
	doomed = g_build_filename(projects_dir, doomed_name, NULL);
	if (g_rename(dir, doomed) != 0) {
		int saved = errno;

		g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_INTERNAL,
			    "cannot remove project directory: %s: %s", dir, g_strerror(saved));
		return FALSE;
	}
	if (!remove_tree(doomed))
		g_warning("project %s removed, but some of %s could not be deleted", id, doomed);
	return TRUE;
}

/**
 * stdiolink_project_copy:
 * @p: a project
 *
 * Returns: (transfer full): an independent project with the same fields (the config
 *   object is shared; configs are replaced, never changed in place)
 */
StdiolinkProject *
stdiolink_project_copy(StdiolinkProject *p)
{
	StdiolinkProject *copy;

	g_return_val_if_fail(STDIOLINK_IS_PROJECT(p), NULL);

	copy = project_new(p->id);
	g_free(copy->name);
	copy->name = g_strdup(p->name);
	g_free(copy->service_id);
	copy->service_id = g_strdup(p->service_id);
	copy->enabled = p->enabled;
	copy->schedule = p->schedule;
	stdiolink_project_set_config(copy, p->config);
	copy->valid = p->valid;
	copy->error = g_strdup(p->error);
	copy->load_failed = p->load_failed;
	return copy;
}

/* accessors */

/**
 * stdiolink_project_get_id:
 * @p: a project
 *
 * Returns: (transfer none): the id
 */
const char *
stdiolink_project_get_id(StdiolinkProject *p)
{
	g_return_val_if_fail(STDIOLINK_IS_PROJECT(p), NULL);
	return p->id;
}

/**
 * stdiolink_project_get_name:
 * @p: a project
 *
 * Returns: (transfer none): the name; `""` if a load error came before it
 */
const char *
stdiolink_project_get_name(StdiolinkProject *p)
{
	g_return_val_if_fail(STDIOLINK_IS_PROJECT(p), NULL);
	return p->name;
}

/**
 * stdiolink_project_get_service_id:
 * @p: a project
 *
 * Returns: (transfer none): the service id; `""` if a load error came before it
 */
const char *
stdiolink_project_get_service_id(StdiolinkProject *p)
{
	g_return_val_if_fail(STDIOLINK_IS_PROJECT(p), NULL);
	return p->service_id;
}

/**
 * stdiolink_project_get_enabled:
 * @p: a project
 *
 * Returns: whether scheduling is enabled (default %TRUE)
 */
gboolean
stdiolink_project_get_enabled(StdiolinkProject *p)
{
	g_return_val_if_fail(STDIOLINK_IS_PROJECT(p), FALSE);
	return p->enabled;
}

/**
 * stdiolink_project_set_enabled:
 * @p: a project
 * @enabled: the new value
 *
 * Changes the in-memory flag only; the caller saves.
 */
void
stdiolink_project_set_enabled(StdiolinkProject *p, gboolean enabled)
{
	g_return_if_fail(STDIOLINK_IS_PROJECT(p));
	p->enabled = enabled;
}

/**
 * stdiolink_project_get_schedule:
 * @p: a project
 *
 * Returns: (transfer none): the schedule
 */
const StdiolinkSchedule *
stdiolink_project_get_schedule(StdiolinkProject *p)
{
	g_return_val_if_fail(STDIOLINK_IS_PROJECT(p), NULL);
	return &p->schedule;
}

/**
 * stdiolink_project_get_config:
 * @p: a project
 *
 * Returns: (transfer none): the config: merged with defaults when valid, as given when not.
 *   Do not modify it; replace it with stdiolink_project_set_config().
 */
JsonObject *
stdiolink_project_get_config(StdiolinkProject *p)
{
	g_return_val_if_fail(STDIOLINK_IS_PROJECT(p), NULL);
	return p->config;
}

/**
 * stdiolink_project_set_config:
 * @p: a project
 * @config: the new config; a reference is taken
 *
 * Replaces the config. Validity is not recomputed.
 */
void
stdiolink_project_set_config(StdiolinkProject *p, JsonObject *config)
{
	g_return_if_fail(STDIOLINK_IS_PROJECT(p));
	g_return_if_fail(config != NULL);

	json_object_ref(config);
	g_clear_pointer(&p->config, json_object_unref);
	p->config = config;
}

/**
 * stdiolink_project_get_valid:
 * @p: a project
 *
 * Returns: whether the project loaded and passed validation
 */
gboolean
stdiolink_project_get_valid(StdiolinkProject *p)
{
	g_return_val_if_fail(STDIOLINK_IS_PROJECT(p), FALSE);
	return p->valid;
}

/**
 * stdiolink_project_get_error:
 * @p: a project
 *
 * Returns: (transfer none) (nullable): why the project is invalid, or %NULL
 */
const char *
stdiolink_project_get_error(StdiolinkProject *p)
{
	g_return_val_if_fail(STDIOLINK_IS_PROJECT(p), NULL);
	return p->error;
}

/**
 * stdiolink_project_set_invalid:
 * @p: a project
 * @error: why, e.g. `service 'x' has been deleted`
 *
 * Marks the project invalid; the config is left as it is.
 */
void
stdiolink_project_set_invalid(StdiolinkProject *p, const char *error)
{
	g_return_if_fail(STDIOLINK_IS_PROJECT(p));

	p->valid = FALSE;
	g_free(p->error);
	p->error = g_strdup(error);
}

/**
 * stdiolink_project_is_load_error:
 * @p: a project
 *
 * Returns: %TRUE if the project's files failed to load; such a project stays invalid
 *   with its load error (stdiolink_project_validate() leaves it alone) until it is loaded
 *   again
 */
gboolean
stdiolink_project_is_load_error(StdiolinkProject *p)
{
	g_return_val_if_fail(STDIOLINK_IS_PROJECT(p), FALSE);
	return p->load_failed;
}

/**
 * stdiolink_project_status:
 * @p: a project
 * @live_instances: its starting and running instances
 *
 * Returns: `invalid`, `disabled`, `running` or `stopped`, the first that applies
 */
const char *
stdiolink_project_status(StdiolinkProject *p, guint live_instances)
{
	g_return_val_if_fail(STDIOLINK_IS_PROJECT(p), NULL);

	if (!p->valid)
		return "invalid";
	if (!p->enabled)
		return "disabled";
	if (live_instances > 0)
		return "running";
	return "stopped";
}

/**
 * stdiolink_project_to_json:
 * @p: a project
 * @live_instances: its starting and running instances
 *
 * Returns: (transfer full): ProjectJSON (http-api.md 1.5); `error` only when non-empty
 */
JsonNode *
stdiolink_project_to_json(StdiolinkProject *p, guint live_instances)
{
	JsonObject *obj;
	JsonNode *config;

	g_return_val_if_fail(STDIOLINK_IS_PROJECT(p), NULL);

	obj = json_object_new();
	json_object_set_string_member(obj, "id", p->id);
	json_object_set_string_member(obj, "name", p->name);
	json_object_set_string_member(obj, "serviceId", p->service_id);
	json_object_set_boolean_member(obj, "enabled", p->enabled);
	json_object_set_boolean_member(obj, "valid", p->valid);
	json_object_set_member(obj, "schedule", stdiolink_schedule_to_json(&p->schedule));

	config = json_node_new(JSON_NODE_OBJECT);
	json_node_set_object(config, p->config);
	json_object_set_member(obj, "config", config);

	json_object_set_int_member(obj, "instanceCount", live_instances);
	json_object_set_string_member(obj, "status", stdiolink_project_status(p, live_instances));
	if (p->error != NULL && *p->error != '\0')
		json_object_set_string_member(obj, "error", p->error);

	return stdiolink_json_node_new_object(obj);
}
