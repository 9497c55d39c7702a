#include "config.h"

#include <string.h>

#include "stdiolink-engine-private.h"
#include "stdiolink-engine-services.h"
#include "stdiolink-error.h"
#include "stdiolink-json.h"
#include "stdiolink-service-create.h"
#include "stdiolink-service-files.h"

/*
 * Authoring services over the API. Each call checks what it can on the engine's thread
 * (the service exists, the request makes sense), runs its file work in a worker thread on
 * copies, and commits the outcome (a new, reloaded or forgotten service) back on the
 * engine's thread in one step. Changes to service files run one at a time, so two writes
 * of one file cannot interleave and a reload sees the file its own write left.
 */

typedef struct _ServiceOp ServiceOp;

/* the file work of one operation, run in a worker thread on the op's own data */
typedef gboolean (*ServiceStepFunc)(ServiceOp *op, GError **error);

struct _ServiceOp {
	ServiceStepFunc step;
	gboolean exclusive;	 /* the step changes files: one such step at a time */
	char *key;		 /* the id the service is stored under */
	char *service_dir;	 /* its folder */
	char *services_dir;	 /* the data root's services/ (create) */
	char *path;		 /* the `path` query value as the client sent it */
	GBytes *body;		 /* the raw request body (write, create file) */
	StdiolinkServiceSpec *spec; /* create */

	/* results, handed back to the engine's thread */
	StdiolinkService *loaded; /* store under key */
	gboolean forget;	  /* remove key */
	JsonNode *result;
	JsonObject *error_fields; /* extra members of the error body */
};

static GMutex mutation_lock;

static void
service_op_free(ServiceOp *op)
{
	g_free(op->key);
	g_free(op->service_dir);
	g_free(op->services_dir);
	g_free(op->path);
	g_clear_pointer(&op->body, g_bytes_unref);
	g_clear_pointer(&op->spec, stdiolink_service_spec_free);
	g_clear_object(&op->loaded);
	g_clear_pointer(&op->result, json_node_unref);
	g_clear_pointer(&op->error_fields, json_object_unref);
	g_free(op);
}

static GTask *
service_op_new(StdiolinkEngine *self,
	       GCancellable *cancellable,
	       GAsyncReadyCallback callback,
	       gpointer user_data)
{
	GTask *task = g_task_new(self, cancellable, callback, user_data);

	g_task_set_source_tag(task, stdiolink_engine_service_op_finish);
	g_task_set_task_data(task, g_new0(ServiceOp, 1), (GDestroyNotify)service_op_free);
	return task;
}

static ServiceOp *
op_of(GTask *task)
{
	return g_task_get_task_data(task);
}

/* worker thread: only the op is touched */
static void
step_thread(GTask *inner, gpointer source, gpointer task_data, GCancellable *cancellable)
{
	ServiceOp *op = task_data;
	GError *error = NULL;
	gboolean ok;

	if (op->exclusive)
		g_mutex_lock(&mutation_lock);
	ok = op->step(op, &error);
	if (op->exclusive)
		g_mutex_unlock(&mutation_lock);

	if (!ok) {
		g_task_return_error(inner, error);
		return;
	}
	g_task_return_boolean(inner, TRUE);
}

/* back on the engine's thread: commit what the step produced and answer */
static void
step_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	StdiolinkEngine *self = STDIOLINK_ENGINE(source);
	g_autoptr(GTask) task = user_data;
	ServiceOp *op = op_of(task);
	GError *error = NULL;

	if (!g_task_propagate_boolean(G_TASK(res), &error)) {
		g_task_return_error(task, error);
		return;
	}
	if (op->loaded != NULL)
		stdiolink_engine_put_service(self, op->key, op->loaded);
	if (op->forget)
		stdiolink_engine_put_service(self, op->key, NULL);
	g_task_return_pointer(task, g_steal_pointer(&op->result),
			      (GDestroyNotify)json_node_unref);
}

/* runs @step in a worker thread; the outer @task (transfer full) is answered afterwards */
static void
run_step(GTask *task, ServiceStepFunc step, gboolean exclusive)
{
	g_autoptr(GTask) inner = g_task_new(g_task_get_source_object(task), NULL, step_done_cb,
					    task);
	ServiceOp *op = op_of(task);

	op->step = step;
	op->exclusive = exclusive;
	g_task_set_task_data(inner, op, NULL);
	g_task_run_in_thread(inner, step_thread);
}

static gboolean
lookup_service(StdiolinkEngine *self, ServiceOp *op, const char *id, GError **error)
{
	StdiolinkService *svc = stdiolink_engine_lookup_service(self, id);

	if (svc == NULL) {
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_NOT_FOUND,
				    "service not found");
		return FALSE;
	}
	op->key = g_strdup(id);
	op->service_dir = g_strdup(stdiolink_service_get_dir(svc));
	return TRUE;
}

/**
 * stdiolink_engine_service_op_finish:
 * @self: the engine
 * @res: the result given to the callback
 * @error_fields: (out) (optional) (nullable) (transfer full): on some failures, members
 *   to add to the error body (`associatedProjects` of a refused delete)
 * @error: return location for a #GError
 *
 * Finishes every call of this file.
 *
 * Returns: (transfer full) (nullable): the answer; %NULL with no error after a delete
 */
JsonNode *
stdiolink_engine_service_op_finish(StdiolinkEngine *self,
				   GAsyncResult *res,
				   JsonObject **error_fields,
				   GError **error)
{
	ServiceOp *op;

	g_return_val_if_fail(g_task_is_valid(res, self), NULL);

	op = op_of(G_TASK(res));
	if (error_fields != NULL)
		*error_fields = op->error_fields != NULL ? json_object_ref(op->error_fields)
							 : NULL;
	return g_task_propagate_pointer(G_TASK(res), error);
}

/* ---- create and delete a service ---------------------------------------------------- */

static gboolean
create_step(ServiceOp *op, GError **error)
{
	JsonObject *root;

	op->loaded = stdiolink_service_create(op->services_dir, op->spec, error);
	if (op->loaded == NULL)
		return FALSE;

	root = json_object_new();
	json_object_set_string_member(root, "id", stdiolink_service_get_id(op->loaded));
	json_object_set_string_member(root, "name", stdiolink_service_get_name(op->loaded));
	json_object_set_string_member(root, "version", stdiolink_service_get_version(op->loaded));
	json_object_set_string_member(root, "serviceDir", stdiolink_service_get_dir(op->loaded));
	json_object_set_boolean_member(root, "hasSchema", TRUE);
	json_object_set_boolean_member(root, "created", TRUE);
	op->result = stdiolink_json_node_new_object(root);
	return TRUE;
}

/**
 * stdiolink_engine_create_service_async:
 * @self: the engine
 * @body: the request body
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: for @callback
 *
 * `POST /api/services` (http-api.md 4.2): checks the body, then creates
 * `services/<id>/` from a template in a worker thread, loads it and adds it. Finish with
 * stdiolink_engine_service_op_finish(): `{"id","name","version","serviceDir","hasSchema",
 * "created"}`. An id already loaded is %STDIOLINK_ERROR_CONFLICT `service already exists`.
 */
void
stdiolink_engine_create_service_async(StdiolinkEngine *self,
				      JsonObject *body,
				      GCancellable *cancellable,
				      GAsyncReadyCallback callback,
				      gpointer user_data)
{
	g_autoptr(GTask) task = service_op_new(self, cancellable, callback, user_data);
	ServiceOp *op = op_of(task);
	GError *error = NULL;

	op->spec = stdiolink_service_spec_new_from_json(body, &error);
	if (op->spec == NULL) {
		g_task_return_error(task, error);
		return;
	}
	if (stdiolink_engine_lookup_service(self, op->spec->id) != NULL) {
		g_task_return_new_error(task, STDIOLINK_ERROR, STDIOLINK_ERROR_CONFLICT,
					"service already exists");
		return;
	}
	op->key = g_strdup(op->spec->id);
	op->services_dir = g_build_filename(stdiolink_engine_get_data_root(self), "services",
					    NULL);
	run_step(g_steal_pointer(&task), create_step, TRUE);
}

static gboolean
delete_step(ServiceOp *op, GError **error)
{
	if (!stdiolink_service_dir_remove(op->service_dir, error))
		return FALSE;
	op->forget = TRUE;
	return TRUE;
}

static JsonObject *
associated_projects(GStrv ids)
{
	JsonObject *fields = json_object_new();
	JsonArray *list = json_array_new();

	for (guint i = 0; ids[i] != NULL; i++)
		json_array_add_string_element(list, ids[i]);
	json_object_set_array_member(fields, "associatedProjects", list);
	return fields;
}

/* the project ids of a service, copied: invalidating a project replaces its table key */
static GStrv
copy_project_ids(StdiolinkEngine *self, const char *service_id)
{
	g_autoptr(GPtrArray) ids = stdiolink_engine_get_service_project_ids(self, service_id);

	return g_strdupv((char **)ids->pdata);
}

/**
 * stdiolink_engine_delete_service_async:
 * @self: the engine
 * @id: the service id
 * @force: whether to delete a service that projects still use
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: for @callback
 *
 * `DELETE /api/services/<id>` (http-api.md 4.5). Without @force, a service that projects
 * use is %STDIOLINK_ERROR_CONFLICT `service has associated projects: p1, p2` with the
 * error field `associatedProjects`. With it, those projects become invalid
 * (`service '<id>' has been deleted`), stop being scheduled and their instances are
 * stopped. The folder is then removed in a worker thread and the service forgotten.
 * Finish with stdiolink_engine_service_op_finish() (%NULL on success).
 */
void
stdiolink_engine_delete_service_async(StdiolinkEngine *self,
				      const char *id,
				      gboolean force,
				      GCancellable *cancellable,
				      GAsyncReadyCallback callback,
				      gpointer user_data)
{
	g_autoptr(GTask) task = service_op_new(self, cancellable, callback, user_data);
	ServiceOp *op = op_of(task);
	g_auto(GStrv) projects = NULL;
	g_autofree char *reason = NULL;
	GError *error = NULL;

	if (!lookup_service(self, op, id, &error)) {
		g_task_return_error(task, error);
		return;
	}
	projects = copy_project_ids(self, id);
	if (projects[0] != NULL && !force) {
		g_autofree char *joined = g_strjoinv(", ", projects);

		op->error_fields = associated_projects(projects);
		g_task_return_new_error(task, STDIOLINK_ERROR, STDIOLINK_ERROR_CONFLICT,
					"service has associated projects: %s", joined);
		return;
	}

	/* nothing is rolled back if the folder then cannot be removed (as before) */
	reason = g_strdup_printf("service '%s' has been deleted", id);
	for (guint i = 0; projects[i] != NULL; i++) {
		g_message("project %s: %s", projects[i], reason);
		stdiolink_engine_invalidate_project(self, projects[i], reason);
	}
	run_step(g_steal_pointer(&task), delete_step, TRUE);
}

/* ---- the files of a service ----------------------------------------------------------- */

static gboolean
take_path(ServiceOp *op, const char *path, GError **error)
{
	if (path == NULL || *path == '\0') {
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
				    "missing 'path' query parameter");
		return FALSE;
	}
	op->path = g_strdup(path);
	return TRUE;
}

/* the checks every content route makes first: the service, then the path is given */
static GTask *
file_op_new(StdiolinkEngine *self,
	    const char *id,
	    const char *path,
	    GCancellable *cancellable,
	    GAsyncReadyCallback callback,
	    gpointer user_data)
{
	g_autoptr(GTask) task = service_op_new(self, cancellable, callback, user_data);
	ServiceOp *op = op_of(task);
	GError *error = NULL;

	if (!lookup_service(self, op, id, &error) || !take_path(op, path, &error)) {
		g_task_return_error(task, error);
		return NULL;
	}
	return g_steal_pointer(&task);
}

static gboolean
list_step(ServiceOp *op, GError **error)
{
	JsonNode *files = stdiolink_service_files_list(op->service_dir, error);
	JsonObject *root;

	if (files == NULL)
		return FALSE;
	root = json_object_new();
	json_object_set_string_member(root, "serviceId", op->key);
	json_object_set_string_member(root, "serviceDir", op->service_dir);
	json_object_set_member(root, "files", files);
	op->result = stdiolink_json_node_new_object(root);
	return TRUE;
}

/**
 * stdiolink_engine_list_service_files_async:
 * @self: the engine
 * @id: the service id
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: for @callback
 *
 * `GET /api/services/<id>/files` (http-api.md 4.9), read in a worker thread. Finish with
 * stdiolink_engine_service_op_finish(): `{"serviceId","serviceDir","files"}`.
 */
void
stdiolink_engine_list_service_files_async(StdiolinkEngine *self,
					  const char *id,
					  GCancellable *cancellable,
					  GAsyncReadyCallback callback,
					  gpointer user_data)
{
	g_autoptr(GTask) task = service_op_new(self, cancellable, callback, user_data);
	GError *error = NULL;

	if (!lookup_service(self, op_of(task), id, &error)) {
		g_task_return_error(task, error);
		return;
	}
	run_step(g_steal_pointer(&task), list_step, FALSE);
}

static gboolean
read_step(ServiceOp *op, GError **error)
{
	g_autoptr(StdiolinkServicePath) sp = stdiolink_service_path_open(op->service_dir,
									  op->path, error);

	if (sp == NULL)
		return FALSE;
	op->result = stdiolink_service_path_read(sp, op->path, error);
	return op->result != NULL;
}

/**
 * stdiolink_engine_read_service_file_async:
 * @self: the engine
 * @id: the service id
 * @path: (nullable): the `path` query value, decoded
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: for @callback
 *
 * `GET .../files/content?path=` (http-api.md 4.10). Finish with
 * stdiolink_engine_service_op_finish(): `{"path","content","size","modifiedAt"}`.
 */
void
stdiolink_engine_read_service_file_async(StdiolinkEngine *self,
					 const char *id,
					 const char *path,
					 GCancellable *cancellable,
					 GAsyncReadyCallback callback,
					 gpointer user_data)
{
	GTask *task = file_op_new(self, id, path, cancellable, callback, user_data);

	if (task != NULL)
		run_step(task, read_step, FALSE);
}

static JsonNode *
written_json(const char *path, gsize size, const char *flag)
{
	JsonObject *root = json_object_new();

	json_object_set_string_member(root, "path", path);
	json_object_set_int_member(root, "size", (gint64)size);
	json_object_set_boolean_member(root, flag, TRUE);
	return stdiolink_json_node_new_object(root);
}

static gboolean
reload_step(ServiceOp *op, GError **error)
{
	g_autoptr(GError) load_error = NULL;

	op->loaded = stdiolink_service_load(op->service_dir, &load_error);
	if (op->loaded != NULL)
		return TRUE;
	g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_INTERNAL,
		    "file written but reload failed: failed to reload service: %s",
		    load_error->message);
	return FALSE;
}

static gboolean
write_step(ServiceOp *op, GError **error)
{
	g_autoptr(StdiolinkServicePath) sp = stdiolink_service_path_open(op->service_dir,
									  op->path, error);
	g_autofree char *content = NULL;
	const char *relative;
	gsize size;

	if (sp == NULL)
		return FALSE;

	/* a missing target is reported before anything about the body */
	if (!stdiolink_service_path_is_file(sp)) {
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_NOT_FOUND,
				    "file not found");
		return FALSE;
	}
	content = stdiolink_service_file_content_from_body(op->body, TRUE, error);
	relative = stdiolink_service_path_get_relative(sp);
	if (content == NULL || !stdiolink_service_file_check_content(relative, content, error))
		return FALSE;

	size = strlen(content);
	if (!stdiolink_service_path_replace(sp, content, size, error))
		return FALSE;
	op->result = written_json(op->path, size, "updated");

	/* the files the loader reads are loaded again; the old service stays if that fails */
	if (g_str_equal(relative, "manifest.json") || g_str_equal(relative, "config.schema.json"))
		return reload_step(op, error);
	return TRUE;
}

/**
 * stdiolink_engine_write_service_file_async:
 * @self: the engine
 * @id: the service id
 * @path: (nullable): the `path` query value, decoded
 * @body: (nullable): the raw request body, `{"content": "..."}`
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: for @callback
 *
 * `PUT .../files/content?path=` (http-api.md 4.11): replaces an existing file atomically.
 * `manifest.json` and `config.schema.json` are checked before and the service is reloaded
 * after (stored under its old id even if the manifest changed it). Finish with
 * stdiolink_engine_service_op_finish(): `{"path","size","updated"}`.
 */
void
stdiolink_engine_write_service_file_async(StdiolinkEngine *self,
					  const char *id,
					  const char *path,
					  GBytes *body,
					  GCancellable *cancellable,
					  GAsyncReadyCallback callback,
					  gpointer user_data)
{
	GTask *task = file_op_new(self, id, path, cancellable, callback, user_data);

	if (task == NULL)
		return;
	op_of(task)->body = body != NULL ? g_bytes_ref(body) : NULL;
	run_step(task, write_step, TRUE);
}

static gboolean
create_file_step(ServiceOp *op, GError **error)
{
	g_autoptr(StdiolinkServicePath) sp = stdiolink_service_path_open(op->service_dir,
									  op->path, error);
	g_autofree char *content = NULL;

	if (sp == NULL)
		return FALSE;
	if (stdiolink_service_path_exists(sp)) {
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_CONFLICT,
				    "file already exists");
		return FALSE;
	}
	content = stdiolink_service_file_content_from_body(op->body, FALSE, error);
	if (content == NULL || !stdiolink_service_path_create(sp, content, strlen(content), error))
		return FALSE;
	op->result = written_json(op->path, strlen(content), "created");
	return TRUE;
}

/**
 * stdiolink_engine_create_service_file_async:
 * @self: the engine
 * @id: the service id
 * @path: (nullable): the `path` query value, decoded
 * @body: (nullable): the raw request body, `{"content": "..."}` (content optional)
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: for @callback
 *
 * `POST .../files/content?path=` (http-api.md 4.12): creates a file and the folders on
 * its way; an existing one is %STDIOLINK_ERROR_CONFLICT `file already exists`. No reload.
 * Finish with stdiolink_engine_service_op_finish(): `{"path","size","created"}`.
 */
void
stdiolink_engine_create_service_file_async(StdiolinkEngine *self,
					   const char *id,
					   const char *path,
					   GBytes *body,
					   GCancellable *cancellable,
					   GAsyncReadyCallback callback,
					   gpointer user_data)
{
	GTask *task = file_op_new(self, id, path, cancellable, callback, user_data);

	if (task == NULL)
		return;
	op_of(task)->body = body != NULL ? g_bytes_ref(body) : NULL;
	run_step(task, create_file_step, TRUE);
}

static gboolean
delete_file_step(ServiceOp *op, GError **error)
{
	g_autoptr(StdiolinkServicePath) sp = stdiolink_service_path_open(op->service_dir,
									  op->path, error);

	return sp != NULL && stdiolink_service_path_delete(sp, error);
}

/**
 * stdiolink_engine_delete_service_file_async:
 * @self: the engine
 * @id: the service id
 * @path: (nullable): the `path` query value, decoded
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: for @callback
 *
 * `DELETE .../files/content?path=` (http-api.md 4.13). `manifest.json`, `index.js` and
 * `config.schema.json` are refused with `cannot delete core file: <path>`. Finish with
 * stdiolink_engine_service_op_finish() (%NULL on success).
 */
void
stdiolink_engine_delete_service_file_async(StdiolinkEngine *self,
					   const char *id,
					   const char *path,
					   GCancellable *cancellable,
					   GAsyncReadyCallback callback,
					   gpointer user_data)
{
	GTask *task = file_op_new(self, id, path, cancellable, callback, user_data);

	if (task == NULL)
		return;
	if (stdiolink_service_path_is_core_file(path)) {
		g_task_return_new_error(task, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
					"cannot delete core file: %s", path);
		g_object_unref(task);
		return;
	}
	run_step(task, delete_file_step, TRUE);
}
