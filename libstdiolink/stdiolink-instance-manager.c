#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "stdiolink-error.h"
#include "stdiolink-instance-manager.h"
#include "stdiolink-instance-private.h"
#include "stdiolink-log-writer-private.h"
#include "stdiolink-util.h"

/*
 * The registry of running service instances (data-root.md 10, scheduling.md 3, events.md
 * 1.2). Starting returns at once with a record in state starting; every later step arrives
 * from the main loop and is published on the event bus. Records disappear when their
 * process has exited, its output is drained and its log lines are written.
 */

/* how long shutdown waits beyond the grace period before it gives up */
#define SHUTDOWN_EXTRA_MS 3000

struct _StdiolinkInstanceManager {
	GObject parent_instance;

	StdiolinkEventBus *bus;
	char *data_root;
	char *logs_dir;
	char *exe_dir; /* nullable */
	guint stop_grace_ms;
	guint start_timeout_ms;
	gint64 log_max_bytes;
	guint log_max_files;

	GHashTable *instances; /* id -> StdiolinkInstance, also the finishing ones */
	GHashTable *writers;   /* project id -> StdiolinkLogWriter */
	GList *waiters;	       /* Waiter */
};

G_DEFINE_FINAL_TYPE(StdiolinkInstanceManager, stdiolink_instance_manager, G_TYPE_OBJECT)

enum { SIGNAL_INSTANCE_FINISHED, SIGNAL_LAST };

static guint signals[SIGNAL_LAST];

typedef struct {
	StdiolinkInstanceManager *manager; /* kept alive by the task */
	GTask *task;
	char *project_id; /* NULL: every instance (shutdown) */
	guint timeout_id;
	GSource *cancel_source;
} Waiter;

static void
release_all(StdiolinkInstanceManager *self)
{
	GHashTableIter iter;
	gpointer value;

	g_hash_table_iter_init(&iter, self->instances);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		stdiolink_instance_release(value);
	g_hash_table_remove_all(self->instances);
}

static void
stdiolink_instance_manager_dispose(GObject *object)
{
	StdiolinkInstanceManager *self = STDIOLINK_INSTANCE_MANAGER(object);

	/* daemon teardown: nothing may run on without us */
	if (self->instances != NULL)
		release_all(self);
	if (self->writers != NULL)
		g_hash_table_remove_all(self->writers);
	g_clear_object(&self->bus);
	G_OBJECT_CLASS(stdiolink_instance_manager_parent_class)->dispose(object);
}

static void
stdiolink_instance_manager_finalize(GObject *object)
{
	StdiolinkInstanceManager *self = STDIOLINK_INSTANCE_MANAGER(object);

	g_hash_table_unref(self->instances);
	g_hash_table_unref(self->writers);
	g_free(self->data_root);
	g_free(self->logs_dir);
	g_free(self->exe_dir);
	G_OBJECT_CLASS(stdiolink_instance_manager_parent_class)->finalize(object);
}

static void
stdiolink_instance_manager_class_init(StdiolinkInstanceManagerClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->dispose = stdiolink_instance_manager_dispose;
	object_class->finalize = stdiolink_instance_manager_finalize;

	/**
	 * StdiolinkInstanceManager::instance-finished:
	 * @m: the manager
	 * @inst: the instance, already in state stopped or failed
	 * @exit_code: the exit code, the signal number, or -1 if it never started
	 * @status: `normal` (exited by itself) or `crashed` (signal, or never started)
	 *
	 * Emitted once per instance, just before `instance.finished` is published and the
	 * record removed (the scheduler reacts here, events.md 1.2).
	 */
	signals[SIGNAL_INSTANCE_FINISHED] = g_signal_new("instance-finished",
							 G_TYPE_FROM_CLASS(klass),
							 G_SIGNAL_RUN_LAST,
							 0,
							 NULL,
							 NULL,
							 NULL,
							 G_TYPE_NONE,
							 3,
							 STDIOLINK_TYPE_INSTANCE,
							 G_TYPE_INT,
							 G_TYPE_STRING);
}

static void
stdiolink_instance_manager_init(StdiolinkInstanceManager *self)
{
	self->instances = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
						g_object_unref);
	self->writers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);
}

static char *
find_exe_dir(void)
{
	g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);

	if (exe == NULL)
		return NULL;
	return g_path_get_dirname(exe);
}

/**
 * stdiolink_instance_manager_new:
 * @bus: where instance events are published
 * @data_root: absolute data root; project logs go to `<data_root>/logs`
 * @stop_grace_ms: time between SIGTERM and SIGKILL when stopping (`stopGraceMs`)
 * @log_max_bytes: rotation size of the project logs (`logMaxBytes`)
 * @log_max_files: rotated project logs kept (`logMaxFiles`)
 *
 * Returns: (transfer full): a manager with no instances
 */
StdiolinkInstanceManager *
stdiolink_instance_manager_new(StdiolinkEventBus *bus,
			       const char *data_root,
			       guint stop_grace_ms,
			       gint64 log_max_bytes,
			       guint log_max_files)
{
	StdiolinkInstanceManager *self;

	g_return_val_if_fail(STDIOLINK_IS_EVENT_BUS(bus), NULL);
	g_return_val_if_fail(data_root != NULL, NULL);

	self = g_object_new(STDIOLINK_TYPE_INSTANCE_MANAGER, NULL);
	self->bus = g_object_ref(bus);
	self->data_root = g_strdup(data_root);
	self->logs_dir = g_build_filename(data_root, "logs", NULL);
	self->exe_dir = find_exe_dir();
	self->stop_grace_ms = stop_grace_ms;
	self->start_timeout_ms = STDIOLINK_INSTANCE_START_TIMEOUT_MS;
	self->log_max_bytes = log_max_bytes;
	self->log_max_files = log_max_files;
	return self;
}

/**
 * stdiolink_instance_manager_get_stop_grace_ms:
 * @m: a manager
 *
 * Returns: the time between SIGTERM and SIGKILL
 */
guint
stdiolink_instance_manager_get_stop_grace_ms(StdiolinkInstanceManager *m)
{
	g_return_val_if_fail(STDIOLINK_IS_INSTANCE_MANAGER(m), 0);
	return m->stop_grace_ms;
}

static void
publish(StdiolinkInstanceManager *self, const char *type, JsonObject *data)
{
	stdiolink_event_bus_publish(self->bus, type, data);
}

static JsonObject *
event_data(StdiolinkInstance *inst)
{
	JsonObject *data = json_object_new();

	json_object_set_string_member(data, "instanceId", stdiolink_instance_get_id(inst));
	json_object_set_string_member(data, "projectId", stdiolink_instance_get_project_id(inst));
	return data;
}

static guint
count_records(StdiolinkInstanceManager *self, const char *project_id)
{
	GHashTableIter iter;
	gpointer value;
	guint n = 0;

	g_hash_table_iter_init(&iter, self->instances);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		if (project_id == NULL ||
		    g_str_equal(stdiolink_instance_get_project_id(value), project_id))
			n++;
	}
	return n;
}

static void
waiter_complete(Waiter *w, GError *error)
{
	StdiolinkInstanceManager *self = w->manager;
	g_autoptr(GTask) task = w->task;

	self->waiters = g_list_remove(self->waiters, w);
	g_clear_handle_id(&w->timeout_id, g_source_remove);
	if (w->cancel_source != NULL) {
		g_source_destroy(w->cancel_source);
		g_source_unref(w->cancel_source);
	}
	g_free(w->project_id);
	g_free(w);

	if (error != NULL)
		g_task_return_error(task, error);
	else
		g_task_return_boolean(task, TRUE);
}

static void
check_waiters(StdiolinkInstanceManager *self)
{
	GList *l = self->waiters;

	while (l != NULL) {
		Waiter *w = l->data;

		/* completing removes the link */
		l = l->next;
		if (count_records(self, w->project_id) == 0)
			waiter_complete(w, NULL);
	}
}

static void
drop_unused_writer(StdiolinkInstanceManager *self, const char *project_id)
{
	StdiolinkLogWriter *w = g_hash_table_lookup(self->writers, project_id);

	/*
	 * Pending lines keep the writer alive until written. One that warned about its file is
	 * kept, or a project started every second would repeat the warning every second.
	 */
	if (w == NULL || count_records(self, project_id) > 0 || stdiolink_log_writer_has_warned(w))
		return;
	g_hash_table_remove(self->writers, project_id);
}

static void
on_started(StdiolinkInstance *inst, gpointer user_data)
{
	StdiolinkInstanceManager *self = user_data;
	JsonObject *data = event_data(inst);

	json_object_set_int_member(data, "pid", stdiolink_instance_get_pid(inst));
	publish(self, "instance.started", data);
}

static void
on_start_failed(StdiolinkInstance *inst, const char *message, gpointer user_data)
{
	StdiolinkInstanceManager *self = user_data;
	JsonObject *data = event_data(inst);

	json_object_set_string_member(data, "error", message);
	json_object_set_string_member(data, "code",
				      stdiolink_instance_get_start_failure_code(inst));
	publish(self, "instance.startFailed", data);
}

static void
on_finished(StdiolinkInstance *inst, gint exit_code, const char *status, gpointer user_data)
{
	StdiolinkInstanceManager *self = user_data;
	g_autoptr(StdiolinkInstance) keep = g_object_ref(inst);
	g_autofree char *project_id = g_strdup(stdiolink_instance_get_project_id(inst));
	JsonObject *data = event_data(inst);

	/* the scheduler handles the exit before the event goes out (events.md 1.2) */
	g_signal_emit(self, signals[SIGNAL_INSTANCE_FINISHED], 0, inst, exit_code, status);

	json_object_set_int_member(data, "exitCode", exit_code);
	json_object_set_string_member(data, "status", status);
	publish(self, "instance.finished", data);

	/* then the record goes, with its temp config and guard */
	g_hash_table_remove(self->instances, stdiolink_instance_get_id(inst));
	stdiolink_instance_release(inst);
	drop_unused_writer(self, project_id);
	check_waiters(self);
}

static const StdiolinkInstanceObserver observer = {
	.started = on_started,
	.start_failed = on_start_failed,
	.finished = on_finished,
};

static char *
write_temp_config(const char *json, GError **error)
{
	g_autoptr(GError) local_error = NULL;
	g_autofree char *path = NULL;
	const char *p = json != NULL ? json : "{}";
	gsize left = strlen(p);
	int fd;

	/* created with mode 0600 in the system temp folder */
	fd = g_file_open_tmp("stdiolink_server.XXXXXX", &path, &local_error);
	if (fd < 0) {
		g_debug("temp config: %s", local_error->message);
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_START_FAILED,
				    "cannot create temp config file");
		return NULL;
	}

	while (left > 0) {
		gssize n = write(fd, p, left);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		p += n;
		left -= (gsize)n;
	}
	if (!g_close(fd, NULL) || left > 0) {
		g_unlink(path);
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_START_FAILED,
				    "cannot write temp config file");
		return NULL;
	}
	return g_steal_pointer(&path);
}

static gboolean
make_dir(const char *dir, const char *what, GError **error)
{
	if (g_mkdir_with_parents(dir, 0755) == 0)
		return TRUE;
	g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_START_FAILED, "cannot create %s: %s",
		    what, dir);
	return FALSE;
}

static GStrv
build_argv(const StdiolinkLaunchSpec *spec,
	   const char *data_root,
	   const char *config_path,
	   const char *guard_name)
{
	GPtrArray *argv = g_ptr_array_new();

	g_ptr_array_add(argv, g_strdup(spec->program));
	if (!spec->native)
		g_ptr_array_add(argv, g_strdup(spec->service_dir));
	g_ptr_array_add(argv, g_strconcat("--config-file=", config_path, NULL));
	if (!spec->native)
		g_ptr_array_add(argv, g_strconcat("--guard=", guard_name, NULL));
	g_ptr_array_add(argv, g_strconcat("--data-root=", data_root, NULL));
	g_ptr_array_add(argv, NULL);
	return (GStrv)g_ptr_array_free(argv, FALSE);
}

static GStrv
build_envp(StdiolinkInstanceManager *self, const StdiolinkLaunchSpec *spec, const char *guard)
{
	char **envp = g_get_environ();

	/* the daemon's own folder first, so that its helper programs are found */
	if (self->exe_dir != NULL) {
		const char *old = g_environ_getenv(envp, "PATH");
		g_autofree char *path = old != NULL && *old != '\0'
						? g_strconcat(self->exe_dir, ":", old, NULL)
						: g_strdup(self->exe_dir);

		envp = g_environ_setenv(envp, "PATH", path, TRUE);
	}

	if (spec->native)
		envp = g_environ_setenv(envp, "STDIOLINK_GUARD", guard, TRUE);
	else
		envp = g_environ_unsetenv(envp, "STDIOLINK_GUARD");
	return envp;
}

static char *
new_instance_id(StdiolinkInstanceManager *self)
{
	for (;;) {
		g_autofree char *hex = stdiolink_random_hex(8);
		char *id = g_strconcat("inst_", hex, NULL);

		if (!g_hash_table_contains(self->instances, id))
			return id;
		g_free(id);
	}
}

static StdiolinkLogWriter *
writer_for_project(StdiolinkInstanceManager *self, const char *project_id)
{
	StdiolinkLogWriter *w = g_hash_table_lookup(self->writers, project_id);
	g_autofree char *name = NULL;
	g_autofree char *path = NULL;

	/* one writer per project: concurrent instances share the file and its rotation */
	if (w != NULL)
		return w;
	name = g_strconcat(project_id, ".log", NULL);
	path = g_build_filename(self->logs_dir, name, NULL);
	w = stdiolink_log_writer_new(path, self->log_max_bytes, self->log_max_files);
	g_hash_table_insert(self->writers, g_strdup(project_id), w);
	return w;
}

/**
 * stdiolink_instance_manager_start:
 * @m: a manager
 * @spec: what to run
 * @error: return location for a #GError
 *
 * Prepares and spawns one instance (data-root.md 10) and returns at once with the record
 * in state starting (pid 0). `instance.started`, or `instance.startFailed` and
 * `instance.finished`, follow from the main loop. A program that cannot be executed is not
 * an error here: its record reports the failure through those events.
 *
 * Returns: (transfer none): the new record, owned by @m and valid until its
 *   `instance.finished`; %NULL with %STDIOLINK_ERROR_START_FAILED if the temp config file,
 *   the workspace, the logs folder or the process guard could not be set up
 */
StdiolinkInstance *
stdiolink_instance_manager_start(StdiolinkInstanceManager *m,
				 const StdiolinkLaunchSpec *spec,
				 GError **error)
{
	const char *data_root;
	g_autofree char *config_path = NULL;
	g_autofree char *workspace = NULL;
	g_autofree char *id = NULL;
	g_autoptr(StdiolinkProcessGuard) guard = NULL;
	g_auto(GStrv) argv = NULL;
	g_auto(GStrv) envp = NULL;
	StdiolinkInstanceParams params = {0};
	StdiolinkLogWriter *log;
	StdiolinkInstance *inst;

	g_return_val_if_fail(STDIOLINK_IS_INSTANCE_MANAGER(m), NULL);
	g_return_val_if_fail(spec != NULL && spec->project_id != NULL, NULL);
	g_return_val_if_fail(spec->program != NULL, NULL);
	g_return_val_if_fail(spec->native || spec->service_dir != NULL, NULL);

	data_root = spec->data_root != NULL ? spec->data_root : m->data_root;

	/* preconditions, in the order of data-root.md 10 */
	config_path = write_temp_config(spec->config_json, error);
	if (config_path == NULL)
		return NULL;
	workspace = g_build_filename(data_root, "projects", spec->project_id, "workspace", NULL);
	if (!make_dir(workspace, "workspace", error) ||
	    !make_dir(m->logs_dir, "logs directory", error)) {
		g_unlink(config_path);
		return NULL;
	}
	guard = stdiolink_process_guard_new(error);
	if (guard == NULL) {
		g_unlink(config_path);
		return NULL;
	}

	id = new_instance_id(m);
	argv = build_argv(spec, data_root, config_path, stdiolink_process_guard_get_name(guard));
	envp = build_envp(m, spec, stdiolink_process_guard_get_name(guard));
	log = writer_for_project(m, spec->project_id);

	params.id = id;
	params.project_id = spec->project_id;
	params.service_id = spec->service_id != NULL ? spec->service_id : "";
	params.argv = (const char *const *)argv;
	params.envp = (const char *const *)envp;
	params.working_directory = workspace;
	params.log_path = stdiolink_log_writer_get_path(log);
	params.config_path = config_path;
	params.guard = guard;
	params.log = log;
	params.run_timeout_ms = spec->run_timeout_ms;
	params.start_timeout_ms = m->start_timeout_ms;
	inst = stdiolink_instance_new(&params);

	stdiolink_instance_set_observer(inst, &observer, m);
	g_hash_table_insert(m->instances, g_strdup(id), inst);
	stdiolink_instance_launch(inst);
	return inst;
}

/**
 * stdiolink_instance_manager_lookup:
 * @m: a manager
 * @instance_id: an instance id
 *
 * Returns: (transfer none) (nullable): the starting or running instance, or %NULL
 */
StdiolinkInstance *
stdiolink_instance_manager_lookup(StdiolinkInstanceManager *m, const char *instance_id)
{
	StdiolinkInstance *inst;

	g_return_val_if_fail(STDIOLINK_IS_INSTANCE_MANAGER(m), NULL);
	g_return_val_if_fail(instance_id != NULL, NULL);

	inst = g_hash_table_lookup(m->instances, instance_id);
	if (inst == NULL || !stdiolink_instance_is_live(inst))
		return NULL;
	return inst;
}

/**
 * stdiolink_instance_manager_terminate:
 * @m: a manager
 * @instance_id: an instance id
 *
 * Sends SIGTERM to the instance's process group and SIGKILL after the grace period; does
 * not wait.
 *
 * Returns: %FALSE if no such instance is starting or running
 */
gboolean
stdiolink_instance_manager_terminate(StdiolinkInstanceManager *m, const char *instance_id)
{
	StdiolinkInstance *inst = stdiolink_instance_manager_lookup(m, instance_id);

	if (inst == NULL)
		return FALSE;
	stdiolink_instance_terminate(inst, m->stop_grace_ms);
	return TRUE;
}

static guint
terminate_matching(StdiolinkInstanceManager *self, const char *project_id)
{
	GHashTableIter iter;
	gpointer value;
	guint n = 0;

	g_hash_table_iter_init(&iter, self->instances);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		if (!stdiolink_instance_is_live(value))
			continue;
		if (project_id != NULL &&
		    !g_str_equal(stdiolink_instance_get_project_id(value), project_id))
			continue;
		stdiolink_instance_terminate(value, self->stop_grace_ms);
		n++;
	}
	return n;
}

/**
 * stdiolink_instance_manager_terminate_project:
 * @m: a manager
 * @project_id: a project id
 *
 * Terminates every live instance of the project, as stdiolink_instance_manager_terminate().
 *
 * Returns: how many instances were signalled
 */
guint
stdiolink_instance_manager_terminate_project(StdiolinkInstanceManager *m, const char *project_id)
{
	g_return_val_if_fail(STDIOLINK_IS_INSTANCE_MANAGER(m), 0);
	g_return_val_if_fail(project_id != NULL, 0);

	return terminate_matching(m, project_id);
}

static gboolean
waiter_timeout_cb(gpointer user_data)
{
	Waiter *w = user_data;
	GError *error;

	w->timeout_id = 0;
	if (w->project_id != NULL)
		error = g_error_new(STDIOLINK_ERROR, STDIOLINK_ERROR_TERMINATE_TIMEOUT,
				    "project instances still running after stop timeout: %s",
				    w->project_id);
	else
		error = g_error_new_literal(STDIOLINK_ERROR, STDIOLINK_ERROR_TERMINATE_TIMEOUT,
					    "instances still running after shutdown timeout");
	waiter_complete(w, error);
	return G_SOURCE_REMOVE;
}

static gboolean
waiter_cancelled_cb(GCancellable *cancellable, gpointer user_data)
{
	Waiter *w = user_data;
	GError *error = NULL;

	g_cancellable_set_error_if_cancelled(cancellable, &error);
	waiter_complete(w, error);
	return G_SOURCE_REMOVE;
}

static void
add_waiter(StdiolinkInstanceManager *self,
	   GTask *task,
	   const char *project_id,
	   guint timeout_ms)
{
	GCancellable *cancellable = g_task_get_cancellable(task);
	Waiter *w;

	if (count_records(self, project_id) == 0) {
		g_task_return_boolean(task, TRUE);
		return;
	}

	w = g_new0(Waiter, 1);
	w->manager = self;
	w->task = g_object_ref(task);
	w->project_id = g_strdup(project_id);
	w->timeout_id = g_timeout_add(timeout_ms, waiter_timeout_cb, w);
	if (cancellable != NULL) {
		w->cancel_source = g_cancellable_source_new(cancellable);
		g_source_set_callback(w->cancel_source, G_SOURCE_FUNC(waiter_cancelled_cb), w,
				      NULL);
		g_source_attach(w->cancel_source, g_task_get_context(task));
	}
	self->waiters = g_list_append(self->waiters, w);
}

/**
 * stdiolink_instance_manager_stop_project_async:
 * @m: a manager
 * @project_id: a project id
 * @timeout_ms: give up after this long
 * @c: (nullable): a #GCancellable
 * @cb: called when the project has no instance left, or at the timeout
 * @data: data for @cb
 *
 * Terminates the project's instances and waits, without blocking, until every record of
 * the project is gone (its `instance.finished` published).
 */
void
stdiolink_instance_manager_stop_project_async(StdiolinkInstanceManager *m,
					      const char *project_id,
					      guint timeout_ms,
					      GCancellable *c,
					      GAsyncReadyCallback cb,
					      gpointer data)
{
	g_autoptr(GTask) task = NULL;

	g_return_if_fail(STDIOLINK_IS_INSTANCE_MANAGER(m));
	g_return_if_fail(project_id != NULL);

	task = g_task_new(m, c, cb, data);
	g_task_set_source_tag(task, stdiolink_instance_manager_stop_project_async);
	if (g_task_return_error_if_cancelled(task))
		return;

	terminate_matching(m, project_id);
	add_waiter(m, task, project_id, timeout_ms);
}

/**
 * stdiolink_instance_manager_stop_project_finish:
 * @m: a manager
 * @res: the result passed to the callback
 * @error: return location for a #GError
 *
 * Returns: %TRUE if no instance of the project is left; %FALSE with
 *   %STDIOLINK_ERROR_TERMINATE_TIMEOUT (`project instances still running after stop
 *   timeout: <id>`) or %G_IO_ERROR_CANCELLED
 */
gboolean
stdiolink_instance_manager_stop_project_finish(StdiolinkInstanceManager *m,
					       GAsyncResult *res,
					       GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, m), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

/**
 * stdiolink_instance_manager_shutdown_async:
 * @m: a manager
 * @c: (nullable): a #GCancellable
 * @cb: called when every instance is gone
 * @data: data for @cb
 *
 * Terminates every instance: SIGTERM now, SIGKILL to what is left after the grace period.
 * Completes when no record is left, or with %STDIOLINK_ERROR_TERMINATE_TIMEOUT if some are
 * still there a few seconds after the grace period.
 */
void
stdiolink_instance_manager_shutdown_async(StdiolinkInstanceManager *m,
					  GCancellable *c,
					  GAsyncReadyCallback cb,
					  gpointer data)
{
	g_autoptr(GTask) task = NULL;

	g_return_if_fail(STDIOLINK_IS_INSTANCE_MANAGER(m));

	task = g_task_new(m, c, cb, data);
	g_task_set_source_tag(task, stdiolink_instance_manager_shutdown_async);
	if (g_task_return_error_if_cancelled(task))
		return;

	terminate_matching(m, NULL);
	add_waiter(m, task, NULL, m->stop_grace_ms + SHUTDOWN_EXTRA_MS);
}

/**
 * stdiolink_instance_manager_kill_all:
 * @m: a manager
 *
 * For an exit that cannot wait: SIGKILL to every instance's process group now, and their
 * temporary files removed. The records are dropped without `instance.finished` events.
 */
void
stdiolink_instance_manager_kill_all(StdiolinkInstanceManager *m)
{
	g_return_if_fail(STDIOLINK_IS_INSTANCE_MANAGER(m));

	release_all(m);
}

/**
 * stdiolink_instance_manager_shutdown_finish:
 * @m: a manager
 * @res: the result passed to the callback
 * @error: return location for a #GError
 *
 * Returns: %TRUE if every instance is gone
 */
gboolean
stdiolink_instance_manager_shutdown_finish(StdiolinkInstanceManager *m,
					   GAsyncResult *res,
					   GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, m), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

static gint
compare_by_id(gconstpointer a, gconstpointer b)
{
	StdiolinkInstance *ia = *(StdiolinkInstance **)a;
	StdiolinkInstance *ib = *(StdiolinkInstance **)b;

	return strcmp(stdiolink_instance_get_id(ia), stdiolink_instance_get_id(ib));
}

/**
 * stdiolink_instance_manager_list:
 * @m: a manager
 * @project_id: (nullable): only this project's instances
 *
 * Returns: (transfer container) (element-type StdiolinkInstance): the starting and running
 *   instances ordered by id; the array holds a reference to each
 */
GPtrArray *
stdiolink_instance_manager_list(StdiolinkInstanceManager *m, const char *project_id)
{
	GPtrArray *out;
	GHashTableIter iter;
	gpointer value;

	g_return_val_if_fail(STDIOLINK_IS_INSTANCE_MANAGER(m), NULL);

	out = g_ptr_array_new_with_free_func(g_object_unref);
	g_hash_table_iter_init(&iter, m->instances);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		if (!stdiolink_instance_is_live(value))
			continue;
		if (project_id != NULL &&
		    !g_str_equal(stdiolink_instance_get_project_id(value), project_id))
			continue;
		g_ptr_array_add(out, g_object_ref(value));
	}
	g_ptr_array_sort(out, compare_by_id);
	return out;
}

/**
 * stdiolink_instance_manager_count_live:
 * @m: a manager
 * @project_id: (nullable): only this project's instances; %NULL for all
 *
 * Returns: how many instances are starting or running
 */
guint
stdiolink_instance_manager_count_live(StdiolinkInstanceManager *m, const char *project_id)
{
	GHashTableIter iter;
	gpointer value;
	guint n = 0;

	g_return_val_if_fail(STDIOLINK_IS_INSTANCE_MANAGER(m), 0);

	g_hash_table_iter_init(&iter, m->instances);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		if (!stdiolink_instance_is_live(value))
			continue;
		if (project_id == NULL ||
		    g_str_equal(stdiolink_instance_get_project_id(value), project_id))
			n++;
	}
	return n;
}

/**
 * stdiolink_instance_manager_set_start_timeout:
 * @m: a manager
 * @timeout_ms: how long a new instance may take to be running (default 5000)
 *
 * An instance still starting after that is killed, with `instance.startFailed` (code
 * `start_timeout`) and `instance.finished`.
 */
void
stdiolink_instance_manager_set_start_timeout(StdiolinkInstanceManager *m, guint timeout_ms)
{
	g_return_if_fail(STDIOLINK_IS_INSTANCE_MANAGER(m));

	m->start_timeout_ms = timeout_ms;
}
