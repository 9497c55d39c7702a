#include "config.h"

#include "stdiolink-engine-observe.h"
#include "stdiolink-error.h"
#include "stdiolink-json.h"
#include "stdiolink-log-tail.h"
#include "stdiolink-process-info.h"

/*
 * Read-only views of what runs: the tail of a project's log and the processes of an
 * instance. The lookups happen here, on the engine's thread; the file and /proc reads run
 * in worker threads and the answer is rendered when they come back.
 */

typedef struct {
	char *id;	    /* the project or instance asked about */
	char *project_id;   /* whose log is read */
	char *log_path;
	gboolean with_log_path;
} ObserveOp;

static void
observe_op_free(ObserveOp *op)
{
	g_free(op->id);
	g_free(op->project_id);
	g_free(op->log_path);
	g_free(op);
}

static GTask *
observe_task_new(StdiolinkEngine *self,
		 const char *id,
		 gpointer source_tag,
		 GCancellable *cancellable,
		 GAsyncReadyCallback callback,
		 gpointer user_data)
{
	GTask *task = g_task_new(self, cancellable, callback, user_data);
	ObserveOp *op = g_new0(ObserveOp, 1);

	g_task_set_source_tag(task, source_tag);
	op->id = g_strdup(id);
	g_task_set_task_data(task, op, (GDestroyNotify)observe_op_free);
	return task;
}

static char *
project_log_path(StdiolinkEngine *self, const char *project_id)
{
	g_autofree char *name = g_strconcat(project_id, ".log", NULL);

	return g_build_filename(stdiolink_engine_get_data_root(self), "logs", name, NULL);
}

/* ---- logs --------------------------------------------------------------------------------- */

static JsonArray *
lines_to_json(GPtrArray *lines)
{
	JsonArray *array = json_array_new();

	for (guint i = 0; lines != NULL && i < lines->len; i++)
		json_array_add_string_element(array, g_ptr_array_index(lines, i));
	return array;
}

static void
log_read_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	ObserveOp *op = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) lines = stdiolink_log_tail_read_finish(res, &error);
	JsonObject *root;

	/* the project route lists a log that was never written as empty */
	if (lines == NULL && !(op->with_log_path && g_error_matches(error, STDIOLINK_ERROR,
								    STDIOLINK_ERROR_NOT_FOUND))) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}

	root = json_object_new();
	json_object_set_string_member(root, "projectId", op->project_id);
	json_object_set_array_member(root, "lines", lines_to_json(lines));
	if (op->with_log_path)
		json_object_set_string_member(root, "logPath", op->log_path);
	g_task_return_pointer(task, stdiolink_json_node_new_object(root),
			      (GDestroyNotify)json_node_unref);
}

/**
 * stdiolink_engine_read_project_log_async:
 * @self: the engine
 * @id: a project id
 * @lines: how many lines; below 1 means 100, above 5000 means 5000
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: for @callback
 *
 * Reads the tail of `logs/<id>.log` in a worker thread (http-api.md 5.13). Finish with
 * stdiolink_engine_observe_finish(): `{"projectId","lines","logPath"}`, an empty list if
 * the project never wrote a log; %STDIOLINK_ERROR_NOT_FOUND for an unknown project.
 */
void
stdiolink_engine_read_project_log_async(StdiolinkEngine *self,
					const char *id,
					gint lines,
					GCancellable *cancellable,
					GAsyncReadyCallback callback,
					gpointer user_data)
{
	GTask *task = observe_task_new(self, id, stdiolink_engine_read_project_log_async,
				       cancellable, callback, user_data);
	ObserveOp *op = g_task_get_task_data(task);

	if (!stdiolink_engine_has_project(self, id)) {
		g_task_return_new_error(task, STDIOLINK_ERROR, STDIOLINK_ERROR_NOT_FOUND,
					"project not found");
		g_object_unref(task);
		return;
	}
	if (lines < 1)
		lines = STDIOLINK_LOG_LINES_DEFAULT;
	lines = MIN(lines, STDIOLINK_LOG_LINES_MAX);

	op->project_id = g_strdup(id);
	op->log_path = project_log_path(self, id);
	op->with_log_path = TRUE;
	stdiolink_log_tail_read_async(op->log_path, (guint)lines, cancellable, log_read_cb, task);
}

/**
 * stdiolink_engine_read_instance_log_async:
 * @self: the engine
 * @id: an instance id or, failing that, a project id
 * @lines: how many lines, 1..5000
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: for @callback
 *
 * Reads the tail of the log of the instance's project in a worker thread (http-api.md
 * 6.4). Finish with stdiolink_engine_observe_finish(): `{"projectId","lines"}`. Errors:
 * %STDIOLINK_ERROR_BAD_REQUEST `lines out of range`; %STDIOLINK_ERROR_NOT_FOUND
 * `instance not found` or `log file not found`.
 */
void
stdiolink_engine_read_instance_log_async(StdiolinkEngine *self,
					 const char *id,
					 gint lines,
					 GCancellable *cancellable,
					 GAsyncReadyCallback callback,
					 gpointer user_data)
{
	GTask *task = observe_task_new(self, id, stdiolink_engine_read_instance_log_async,
				       cancellable, callback, user_data);
	ObserveOp *op = g_task_get_task_data(task);
	StdiolinkInstance *instance;

	if (lines < 1 || lines > STDIOLINK_LOG_LINES_MAX) {
		g_task_return_new_error(task, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
					"lines out of range");
		g_object_unref(task);
		return;
	}

	instance = stdiolink_instance_manager_lookup(stdiolink_engine_get_instance_manager(self),
						     id);
	if (instance != NULL) {
		op->project_id = g_strdup(stdiolink_instance_get_project_id(instance));
		op->log_path = g_strdup(stdiolink_instance_get_log_path(instance));
	} else if (stdiolink_engine_has_project(self, id)) {
		op->project_id = g_strdup(id);
		op->log_path = project_log_path(self, id);
	} else {
		g_task_return_new_error(task, STDIOLINK_ERROR, STDIOLINK_ERROR_NOT_FOUND,
					"instance not found");
		g_object_unref(task);
		return;
	}
	stdiolink_log_tail_read_async(op->log_path, (guint)lines, cancellable, log_read_cb, task);
}

/* ---- processes ---------------------------------------------------------------------------- */

static void
tree_read_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	ObserveOp *op = g_task_get_task_data(task);
	GError *error = NULL;
	g_autoptr(StdiolinkProcessInfo) info = NULL;

	info = stdiolink_process_monitor_query_finish(STDIOLINK_PROCESS_MONITOR(source), res,
						      &error);
	if (info == NULL) {
		g_task_return_error(task, error);
		return;
	}
	g_task_return_pointer(task, stdiolink_process_info_tree_to_json(info, op->id),
			      (GDestroyNotify)json_node_unref);
}

static void
resources_read_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	ObserveOp *op = g_task_get_task_data(task);
	GError *error = NULL;
	g_autoptr(StdiolinkProcessInfo) info = NULL;

	info = stdiolink_process_monitor_query_finish(STDIOLINK_PROCESS_MONITOR(source), res,
						      &error);
	if (info == NULL) {
		g_task_return_error(task, error);
		return;
	}
	g_task_return_pointer(task, stdiolink_process_info_resources_to_json(info, op->id),
			      (GDestroyNotify)json_node_unref);
}

/* the pid of a running instance, or 0 with the task answered */
static gint
running_pid(StdiolinkEngine *self, GTask *task, const char *id)
{
	StdiolinkInstance *instance =
	    stdiolink_instance_manager_lookup(stdiolink_engine_get_instance_manager(self), id);

	if (instance == NULL) {
		g_task_return_new_error(task, STDIOLINK_ERROR, STDIOLINK_ERROR_NOT_FOUND,
					"instance not found");
		return 0;
	}
	if (stdiolink_instance_get_state(instance) != STDIOLINK_INSTANCE_RUNNING ||
	    stdiolink_instance_get_pid(instance) <= 0) {
		g_task_return_new_error(task, STDIOLINK_ERROR, STDIOLINK_ERROR_NOT_FOUND,
					"instance not running");
		return 0;
	}
	return stdiolink_instance_get_pid(instance);
}

/**
 * stdiolink_engine_get_process_tree_async:
 * @self: the engine
 * @id: an instance id
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: for @callback
 *
 * Reads the instance's process and its descendants from /proc in a worker thread
 * (http-api.md 6.5). Finish with stdiolink_engine_observe_finish():
 * `{"instanceId","rootPid","tree","summary"}`; %STDIOLINK_ERROR_NOT_FOUND with
 * `instance not found` or `instance not running`.
 */
void
stdiolink_engine_get_process_tree_async(StdiolinkEngine *self,
					const char *id,
					GCancellable *cancellable,
					GAsyncReadyCallback callback,
					gpointer user_data)
{
	GTask *task = observe_task_new(self, id, stdiolink_engine_get_process_tree_async,
				       cancellable, callback, user_data);
	gint pid = running_pid(self, task, id);

	if (pid == 0) {
		g_object_unref(task);
		return;
	}
	stdiolink_process_monitor_query_async(stdiolink_engine_get_process_monitor(self), pid,
					      TRUE, cancellable, tree_read_cb, task);
}

/**
 * stdiolink_engine_get_resources_async:
 * @self: the engine
 * @id: an instance id
 * @include_children: %FALSE to report the instance's own process only
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: for @callback
 *
 * As stdiolink_engine_get_process_tree_async(), as a flat list (http-api.md 6.6):
 * `{"instanceId","timestamp","processes","summary"}`.
 */
void
stdiolink_engine_get_resources_async(StdiolinkEngine *self,
				     const char *id,
				     gboolean include_children,
				     GCancellable *cancellable,
				     GAsyncReadyCallback callback,
				     gpointer user_data)
{
	GTask *task = observe_task_new(self, id, stdiolink_engine_get_resources_async,
				       cancellable, callback, user_data);
	gint pid = running_pid(self, task, id);

	if (pid == 0) {
		g_object_unref(task);
		return;
	}
	stdiolink_process_monitor_query_async(stdiolink_engine_get_process_monitor(self), pid,
					      include_children, cancellable, resources_read_cb,
					      task);
}

/**
 * stdiolink_engine_observe_finish:
 * @self: the engine
 * @res: the result given to the callback
 * @error: return location for a #GError
 *
 * Finishes the log and process reads of this file.
 *
 * Returns: (transfer full): the answer, or %NULL with @error set
 */
JsonNode *
stdiolink_engine_observe_finish(StdiolinkEngine *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), NULL);
	return g_task_propagate_pointer(G_TASK(res), error);
}
