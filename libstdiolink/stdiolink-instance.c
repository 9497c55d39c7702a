#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <unistd.h>

#include "stdiolink-instance-private.h"
#include "stdiolink-json.h"
#include "stdiolink-log-writer-private.h"
#include "stdiolink-util.h"

/*
 * One service process (data-root.md 10, scheduling.md 3). The instance leads its own process
 * group so that stop reaches its children: SIGTERM to the group, SIGKILL after the grace
 * period. The exit is observed with g_subprocess_wait_async(); then the pipes are drained
 * (at most one second: a grandchild may hold them), what is left of the group is killed,
 * the log is flushed and the manager is told. Nothing here waits on the main loop.
 */

#define READ_CHUNK 65536

typedef struct {
	StdiolinkInstance *owner;
	GInputStream *stream;
	StdiolinkLineSplitter *split;
	gboolean eof;
} Pipe;

struct _StdiolinkInstance {
	GObject parent_instance;

	char *id;
	char *project_id;
	char *service_id;
	char *started_at;
	char *working_directory;
	char *log_path;
	char *config_path;
	GStrv argv;
	GStrv envp;
	guint run_timeout_ms;
	guint start_timeout_ms;
	const char *start_failure_code; /* static: "start_failed" or "start_timeout" */
	StdiolinkProcessGuard *guard;
	StdiolinkLogWriter *log;

	StdiolinkInstanceState state;
	gint pid;    /* as reported: 0 until running */
	gint os_pid; /* the process group, known from the spawn on */
	GSubprocess *proc;
	GCancellable *cancellable;
	Pipe out;
	Pipe err;
	char *spawn_error;

	guint started_id;
	guint start_timeout_id;
	guint run_timeout_id;
	guint kill_id;
	guint drain_id;

	gboolean start_failed_sent;
	gboolean exited;
	gboolean finishing;
	gboolean released;
	gint exit_code;
	const char *exit_status;

	const StdiolinkInstanceObserver *observer;
	gpointer observer_data;
};

G_DEFINE_FINAL_TYPE(StdiolinkInstance, stdiolink_instance, G_TYPE_OBJECT)

/**
 * stdiolink_instance_state_to_string:
 * @s: a state
 *
 * Returns: `starting`, `running`, `stopped` or `failed`
 */
const char *
stdiolink_instance_state_to_string(StdiolinkInstanceState s)
{
	switch (s) {
	case STDIOLINK_INSTANCE_STARTING:
		return "starting";
	case STDIOLINK_INSTANCE_RUNNING:
		return "running";
	case STDIOLINK_INSTANCE_STOPPED:
		return "stopped";
	case STDIOLINK_INSTANCE_FAILED:
		return "failed";
	default:
		return "unknown";
	}
}

static void
stdiolink_instance_dispose(GObject *object)
{
	StdiolinkInstance *self = STDIOLINK_INSTANCE(object);

	stdiolink_instance_release(self);
	G_OBJECT_CLASS(stdiolink_instance_parent_class)->dispose(object);
}

static void
stdiolink_instance_finalize(GObject *object)
{
	StdiolinkInstance *self = STDIOLINK_INSTANCE(object);

	g_clear_object(&self->proc);
	g_clear_object(&self->cancellable);
	g_clear_object(&self->log);
	g_clear_pointer(&self->out.split, stdiolink_line_splitter_free);
	g_clear_pointer(&self->err.split, stdiolink_line_splitter_free);
	g_free(self->id);
	g_free(self->project_id);
	g_free(self->service_id);
	g_free(self->started_at);
	g_free(self->working_directory);
	g_free(self->log_path);
	g_free(self->config_path);
	g_free(self->spawn_error);
	g_strfreev(self->argv);
	g_strfreev(self->envp);
	G_OBJECT_CLASS(stdiolink_instance_parent_class)->finalize(object);
}

static void
stdiolink_instance_class_init(StdiolinkInstanceClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->dispose = stdiolink_instance_dispose;
	object_class->finalize = stdiolink_instance_finalize;
}

static void
stdiolink_instance_init(StdiolinkInstance *self)
{
	self->state = STDIOLINK_INSTANCE_STARTING;
	self->cancellable = g_cancellable_new();
	self->out.owner = self;
	self->err.owner = self;
	self->exit_status = "crashed";
	self->exit_code = -1;
}

/**
 * stdiolink_instance_new: (skip)
 * @params: what the manager prepared
 *
 * Returns: (transfer full): a record in state starting; nothing runs until
 *   stdiolink_instance_launch()
 */
StdiolinkInstance *
stdiolink_instance_new(const StdiolinkInstanceParams *params)
{
	StdiolinkInstance *self = g_object_new(STDIOLINK_TYPE_INSTANCE, NULL);

	self->id = g_strdup(params->id);
	self->project_id = g_strdup(params->project_id);
	self->service_id = g_strdup(params->service_id);
	self->started_at = stdiolink_now_iso8601(FALSE);
	self->working_directory = g_strdup(params->working_directory);
	self->log_path = g_strdup(params->log_path);
	self->config_path = g_strdup(params->config_path);
	self->argv = g_strdupv((char **)params->argv);
	self->envp = g_strdupv((char **)params->envp);
	self->run_timeout_ms = params->run_timeout_ms;
	self->start_timeout_ms = params->start_timeout_ms;
	self->start_failure_code = "start_failed";
	self->guard = params->guard != NULL ? g_object_ref(params->guard) : NULL;
	self->log = g_object_ref(params->log);
	self->out.split = stdiolink_line_splitter_new(self->log, "");
	self->err.split = stdiolink_line_splitter_new(self->log, "[stderr] ");
	return self;
}

/**
 * stdiolink_instance_set_observer: (skip)
 * @inst: an instance
 * @observer: (nullable): the callbacks, kept by pointer
 * @user_data: passed to them
 */
void
stdiolink_instance_set_observer(StdiolinkInstance *inst,
				const StdiolinkInstanceObserver *observer,
				gpointer user_data)
{
	inst->observer = observer;
	inst->observer_data = user_data;
}

static void
kill_group(StdiolinkInstance *self, int sig)
{
	if (self->os_pid <= 0)
		return;

	/* the child set up its own group; fall back to the pid if that did not happen */
	if (kill(-self->os_pid, sig) != 0 && errno == ESRCH && !self->exited)
		kill(self->os_pid, sig);
}

static void
send_start_failed(StdiolinkInstance *self, const char *message)
{
	if (self->start_failed_sent)
		return;
	self->start_failed_sent = TRUE;
	if (self->observer != NULL && self->observer->start_failed != NULL)
		self->observer->start_failed(self, message, self->observer_data);
}

static gboolean
run_timeout_cb(gpointer user_data)
{
	StdiolinkInstance *self = STDIOLINK_INSTANCE(user_data);
	g_autofree char *line = g_strdup_printf("service run timeout (%u ms)",
						self->run_timeout_ms);

	self->run_timeout_id = 0;
	stdiolink_line_splitter_write_line(self->err.split, line);
	kill_group(self, SIGKILL);
	return G_SOURCE_REMOVE;
}

static void
become_running(StdiolinkInstance *self)
{
	g_clear_handle_id(&self->start_timeout_id, g_source_remove);
	self->state = STDIOLINK_INSTANCE_RUNNING;
	self->pid = self->os_pid;
	if (self->run_timeout_ms > 0)
		self->run_timeout_id = g_timeout_add(self->run_timeout_ms, run_timeout_cb, self);
	if (self->observer != NULL && self->observer->started != NULL)
		self->observer->started(self, self->observer_data);
}

static gboolean
started_cb(gpointer user_data)
{
	StdiolinkInstance *self = STDIOLINK_INSTANCE(user_data);

	self->started_id = 0;
	become_running(self);
	return G_SOURCE_REMOVE;
}

static gboolean
start_timeout_cb(gpointer user_data)
{
	StdiolinkInstance *self = STDIOLINK_INSTANCE(user_data);
	g_autofree char *message = NULL;

	self->start_timeout_id = 0;
	if (self->state != STDIOLINK_INSTANCE_STARTING)
		return G_SOURCE_REMOVE;

	/* too late to call it started: it ends as a failed start */
	g_clear_handle_id(&self->started_id, g_source_remove);
	self->start_failure_code = "start_timeout";
	if (self->start_timeout_ms % 1000 == 0)
		message = g_strdup_printf("start timeout (%us)", self->start_timeout_ms / 1000);
	else
		message = g_strdup_printf("start timeout (%u ms)", self->start_timeout_ms);
	send_start_failed(self, message);
	kill_group(self, SIGKILL);
	return G_SOURCE_REMOVE;
}

static void
flushed_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(StdiolinkInstance) self = STDIOLINK_INSTANCE(user_data);
	g_autoptr(GError) error = NULL;

	if (!stdiolink_log_writer_flush_finish(STDIOLINK_LOG_WRITER(source), res, &error))
		g_debug("instance %s: log: %s", self->id, error->message);

	if (self->released || self->observer == NULL || self->observer->finished == NULL)
		return;
	self->observer->finished(self, self->exit_code, self->exit_status, self->observer_data);
}

static void
finish(StdiolinkInstance *self)
{
	self->finishing = TRUE;
	g_clear_handle_id(&self->drain_id, g_source_remove);

	/* reads still pending after the drain timeout are abandoned */
	g_cancellable_cancel(self->cancellable);

	/* leftovers: partial stdout first, then partial stderr (data-root.md 8.1) */
	stdiolink_line_splitter_finish(self->out.split);
	stdiolink_line_splitter_finish(self->err.split);

	if (g_str_equal(self->exit_status, "normal") && self->exit_code == 0)
		self->state = STDIOLINK_INSTANCE_STOPPED;
	else
		self->state = STDIOLINK_INSTANCE_FAILED;

	stdiolink_log_writer_flush_async(self->log, NULL, flushed_cb, g_object_ref(self));
}

static void
check_drained(StdiolinkInstance *self)
{
	if (!self->exited || self->finishing || self->released)
		return;
	if (self->out.eof && self->err.eof)
		finish(self);
}

static gboolean
drain_timeout_cb(gpointer user_data)
{
	StdiolinkInstance *self = STDIOLINK_INSTANCE(user_data);

	self->drain_id = 0;
	g_debug("instance %s: pipes still open after exit, giving up on them", self->id);
	finish(self);
	return G_SOURCE_REMOVE;
}

static void read_next(Pipe *pipe);

static void
read_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Pipe *pipe = user_data;
	g_autoptr(StdiolinkInstance) self = pipe->owner; /* the reference read_next() took */
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) bytes = NULL;

	bytes = g_input_stream_read_bytes_finish(G_INPUT_STREAM(source), res, &error);
	if (self->finishing || self->released)
		return;

	if (bytes == NULL || g_bytes_get_size(bytes) == 0) {
		pipe->eof = TRUE;
		check_drained(self);
		return;
	}

	stdiolink_line_splitter_feed(pipe->split,
				     g_bytes_get_data(bytes, NULL),
				     g_bytes_get_size(bytes));
	read_next(pipe);
}

static void
read_next(Pipe *pipe)
{
	g_object_ref(pipe->owner);
	g_input_stream_read_bytes_async(pipe->stream, READ_CHUNK, G_PRIORITY_DEFAULT,
					pipe->owner->cancellable, read_cb, pipe);
}

static void
record_exit(StdiolinkInstance *self)
{
	if (g_subprocess_get_if_signaled(self->proc)) {
		self->exit_code = g_subprocess_get_term_sig(self->proc);
		self->exit_status = "crashed";
	} else {
		self->exit_code = g_subprocess_get_exit_status(self->proc);
		self->exit_status = "normal";
	}
}

static void
wait_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(StdiolinkInstance) self = STDIOLINK_INSTANCE(user_data);

	/* cancelled: the record was released while the process ran */
	if (!g_subprocess_wait_finish(G_SUBPROCESS(source), res, NULL) || self->released)
		return;

	/* the process did start: an exit seen before the started idle still counts as a run */
	if (self->started_id != 0) {
		g_clear_handle_id(&self->started_id, g_source_remove);
		become_running(self);
	}

	self->exited = TRUE;
	g_clear_handle_id(&self->start_timeout_id, g_source_remove);
	g_clear_handle_id(&self->run_timeout_id, g_source_remove);
	g_clear_handle_id(&self->kill_id, g_source_remove);
	record_exit(self);

	/* nothing of the instance may outlive it */
	kill_group(self, SIGKILL);

	self->drain_id = g_timeout_add(STDIOLINK_INSTANCE_DRAIN_TIMEOUT_MS, drain_timeout_cb,
				       self);
	check_drained(self);
}

static gboolean
spawn_failed_cb(gpointer user_data)
{
	StdiolinkInstance *self = STDIOLINK_INSTANCE(user_data);

	self->started_id = 0;
	self->state = STDIOLINK_INSTANCE_FAILED;
	send_start_failed(self, self->spawn_error);

	self->exited = TRUE;
	self->exit_code = -1;
	self->exit_status = "crashed";
	self->out.eof = TRUE;
	self->err.eof = TRUE;
	check_drained(self);
	return G_SOURCE_REMOVE;
}

/* the daemon's pid, read by each child before exec */
static pid_t spawner_pid;

static void
child_setup_cb(gpointer user_data)
{
	int pid_fd = GPOINTER_TO_INT(user_data);
	pid_t pid = getpid();

	/* lead a process group of our own, so that a signal to -pid reaches the children */
	setpgid(0, 0);

	/*
	 * If the daemon dies without stopping us (SIGKILL, a crash), the kernel sends SIGTERM:
	 * native services have no guard socket to notice it otherwise. The daemon may have
	 * died before this line, hence the parent check.
	 */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != spawner_pid)
		_exit(127);

	/* async-signal-safe; the descriptor closes itself at exec */
	if (write(pid_fd, &pid, sizeof(pid)) != sizeof(pid))
		_exit(127);
}

static gint
read_child_pid(int fd)
{
	pid_t pid = 0;

	/* written before exec, so already there once the spawn returned */
	if (read(fd, &pid, sizeof(pid)) != sizeof(pid))
		return 0;
	return (gint)pid;
}

static char *
exec_error_text(const GError *error)
{
	static const struct {
		gint code;
		int errnum;
	} map[] = {
		{G_SPAWN_ERROR_NOENT, ENOENT},	 {G_SPAWN_ERROR_ACCES, EACCES},
		{G_SPAWN_ERROR_PERM, EPERM},	 {G_SPAWN_ERROR_TOO_BIG, E2BIG},
		{G_SPAWN_ERROR_NOEXEC, ENOEXEC}, {G_SPAWN_ERROR_NAMETOOLONG, ENAMETOOLONG},
		{G_SPAWN_ERROR_NOTDIR, ENOTDIR}, {G_SPAWN_ERROR_LOOP, ELOOP},
		{G_SPAWN_ERROR_TXTBUSY, ETXTBSY}, {G_SPAWN_ERROR_IO, EIO},
		{G_SPAWN_ERROR_NFILE, ENFILE},	 {G_SPAWN_ERROR_MFILE, EMFILE},
		{G_SPAWN_ERROR_INVAL, EINVAL},	 {G_SPAWN_ERROR_ISDIR, EISDIR},
		{G_SPAWN_ERROR_LIBBAD, ELIBBAD}, {G_SPAWN_ERROR_NOMEM, ENOMEM},
	};

	/* the earlier server reported the failing call and errno, e.g. "execve: ..." */
	if (error->domain == G_SPAWN_ERROR) {
		for (guint i = 0; i < G_N_ELEMENTS(map); i++) {
			if (map[i].code == error->code)
				return g_strdup_printf("execve: %s", g_strerror(map[i].errnum));
		}
	}
	return g_strdup(error->message);
}

static void
start_pipe(Pipe *pipe, GInputStream *stream)
{
	pipe->stream = stream;
	read_next(pipe);
}

/**
 * stdiolink_instance_launch: (skip)
 * @inst: a new instance
 *
 * Spawns the process. Whatever happens, the outcome is reported later through the
 * observer: started (from an idle callback), or start_failed and finished for a spawn
 * failure; finished follows every exit.
 */
void
stdiolink_instance_launch(StdiolinkInstance *inst)
{
	g_autoptr(GSubprocessLauncher) launcher = NULL;
	g_autoptr(GError) error = NULL;
	int pid_pipe[2];

	launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDIN_PIPE |
					     G_SUBPROCESS_FLAGS_STDOUT_PIPE |
					     G_SUBPROCESS_FLAGS_STDERR_PIPE);
	g_subprocess_launcher_set_environ(launcher, inst->envp);
	g_subprocess_launcher_set_cwd(launcher, inst->working_directory);

	/*
	 * the child reports its pid itself: g_subprocess_get_identifier() is NULL once GIO has
	 * reaped a child that exited at once, and every instance needs its pid (events, kill)
	 */
	if (!g_unix_open_pipe(pid_pipe, FD_CLOEXEC, &error)) {
		inst->spawn_error = g_strdup(error->message);
		inst->started_id = g_idle_add(spawn_failed_cb, inst);
		return;
	}
	spawner_pid = getpid();
	g_subprocess_launcher_set_child_setup(launcher, child_setup_cb,
					      GINT_TO_POINTER(pid_pipe[1]), NULL);

	inst->proc = g_subprocess_launcher_spawnv(launcher, (const char *const *)inst->argv,
						  &error);
	g_close(pid_pipe[1], NULL);
	if (inst->proc != NULL)
		inst->os_pid = read_child_pid(pid_pipe[0]);
	g_close(pid_pipe[0], NULL);
	if (inst->proc == NULL) {
		/* report it like an asynchronous failure, so every caller sees one sequence */
		inst->spawn_error = exec_error_text(error);
		inst->started_id = g_idle_add(spawn_failed_cb, inst);
		return;
	}

	/* stdin stays an open pipe that nobody writes, as the runtime expects */
	start_pipe(&inst->out, g_subprocess_get_stdout_pipe(inst->proc));
	start_pipe(&inst->err, g_subprocess_get_stderr_pipe(inst->proc));
	g_subprocess_wait_async(inst->proc, inst->cancellable, wait_cb, g_object_ref(inst));

	inst->started_id = g_idle_add(started_cb, inst);
	inst->start_timeout_id = g_timeout_add(inst->start_timeout_ms, start_timeout_cb, inst);
}

static gboolean
kill_cb(gpointer user_data)
{
	StdiolinkInstance *self = STDIOLINK_INSTANCE(user_data);

	self->kill_id = 0;
	kill_group(self, SIGKILL);
	return G_SOURCE_REMOVE;
}

/**
 * stdiolink_instance_terminate: (skip)
 * @inst: an instance
 * @grace_ms: time between SIGTERM and SIGKILL; 0 kills at once
 *
 * Signals the process group and returns. A second call while the grace period runs does
 * not restart it.
 */
void
stdiolink_instance_terminate(StdiolinkInstance *inst, guint grace_ms)
{
	if (inst->proc == NULL || inst->exited || inst->released || inst->kill_id != 0)
		return;

	if (grace_ms == 0) {
		kill_group(inst, SIGKILL);
		return;
	}
	kill_group(inst, SIGTERM);
	inst->kill_id = g_timeout_add(grace_ms, kill_cb, inst);
}

/**
 * stdiolink_instance_kill: (skip)
 * @inst: an instance
 *
 * SIGKILL to the process group now, if the process has not exited.
 */
void
stdiolink_instance_kill(StdiolinkInstance *inst)
{
	if (inst->proc == NULL || inst->exited || inst->released)
		return;
	g_clear_handle_id(&inst->kill_id, g_source_remove);
	kill_group(inst, SIGKILL);
}

/**
 * stdiolink_instance_release: (skip)
 * @inst: an instance
 *
 * Destroys what the record owns outside the process: timers, the temp config file and the
 * guard socket. A process still running is killed (daemon teardown). Safe to call twice.
 */
void
stdiolink_instance_release(StdiolinkInstance *inst)
{
	if (inst->released)
		return;

	if (inst->proc != NULL && !inst->exited)
		kill_group(inst, SIGKILL);
	inst->released = TRUE;
	inst->observer = NULL;

	g_clear_handle_id(&inst->started_id, g_source_remove);
	g_clear_handle_id(&inst->start_timeout_id, g_source_remove);
	g_clear_handle_id(&inst->run_timeout_id, g_source_remove);
	g_clear_handle_id(&inst->kill_id, g_source_remove);
	g_clear_handle_id(&inst->drain_id, g_source_remove);
	g_cancellable_cancel(inst->cancellable);

	if (inst->guard != NULL)
		stdiolink_process_guard_close(inst->guard);
	g_clear_object(&inst->guard);
	if (inst->config_path != NULL)
		g_unlink(inst->config_path);
}

/**
 * stdiolink_instance_get_id:
 * @inst: an instance
 *
 * Returns: `inst_` and 8 hex digits
 */
const char *
stdiolink_instance_get_id(StdiolinkInstance *inst)
{
	g_return_val_if_fail(STDIOLINK_IS_INSTANCE(inst), NULL);
	return inst->id;
}

/**
 * stdiolink_instance_get_project_id:
 * @inst: an instance
 *
 * Returns: the project it runs for
 */
const char *
stdiolink_instance_get_project_id(StdiolinkInstance *inst)
{
	g_return_val_if_fail(STDIOLINK_IS_INSTANCE(inst), NULL);
	return inst->project_id;
}

/**
 * stdiolink_instance_get_service_id:
 * @inst: an instance
 *
 * Returns: the service of its project
 */
const char *
stdiolink_instance_get_service_id(StdiolinkInstance *inst)
{
	g_return_val_if_fail(STDIOLINK_IS_INSTANCE(inst), NULL);
	return inst->service_id;
}

/**
 * stdiolink_instance_get_pid:
 * @inst: an instance
 *
 * Returns: the process id once running, 0 before
 */
gint
stdiolink_instance_get_pid(StdiolinkInstance *inst)
{
	g_return_val_if_fail(STDIOLINK_IS_INSTANCE(inst), 0);
	return inst->pid;
}

/**
 * stdiolink_instance_get_state:
 * @inst: an instance
 *
 * Returns: the current state
 */
StdiolinkInstanceState
stdiolink_instance_get_state(StdiolinkInstance *inst)
{
	g_return_val_if_fail(STDIOLINK_IS_INSTANCE(inst), STDIOLINK_INSTANCE_FAILED);
	return inst->state;
}

/**
 * stdiolink_instance_is_live:
 * @inst: an instance
 *
 * Returns: %TRUE while starting or running (what a project's instance count counts)
 */
gboolean
stdiolink_instance_is_live(StdiolinkInstance *inst)
{
	g_return_val_if_fail(STDIOLINK_IS_INSTANCE(inst), FALSE);
	return inst->state == STDIOLINK_INSTANCE_STARTING ||
	       inst->state == STDIOLINK_INSTANCE_RUNNING;
}

/**
 * stdiolink_instance_get_started_at:
 * @inst: an instance
 *
 * Returns: when the start was requested, `YYYY-MM-DDTHH:MM:SSZ`
 */
const char *
stdiolink_instance_get_started_at(StdiolinkInstance *inst)
{
	g_return_val_if_fail(STDIOLINK_IS_INSTANCE(inst), NULL);
	return inst->started_at;
}

/**
 * stdiolink_instance_get_working_directory:
 * @inst: an instance
 *
 * Returns: `<data_root>/projects/<projectId>/workspace`
 */
const char *
stdiolink_instance_get_working_directory(StdiolinkInstance *inst)
{
	g_return_val_if_fail(STDIOLINK_IS_INSTANCE(inst), NULL);
	return inst->working_directory;
}

/**
 * stdiolink_instance_get_log_path:
 * @inst: an instance
 *
 * Returns: `<data_root>/logs/<projectId>.log`
 */
const char *
stdiolink_instance_get_log_path(StdiolinkInstance *inst)
{
	g_return_val_if_fail(STDIOLINK_IS_INSTANCE(inst), NULL);
	return inst->log_path;
}

/**
 * stdiolink_instance_get_command_line:
 * @inst: an instance
 *
 * Returns: (array zero-terminated=1) (transfer none): the argv it was started with
 */
const char *const *
stdiolink_instance_get_command_line(StdiolinkInstance *inst)
{
	g_return_val_if_fail(STDIOLINK_IS_INSTANCE(inst), NULL);
	return (const char *const *)inst->argv;
}

/**
 * stdiolink_instance_get_config_path:
 * @inst: an instance
 *
 * Returns: the temporary config file passed as `--config-file=`; removed with the record
 */
const char *
stdiolink_instance_get_config_path(StdiolinkInstance *inst)
{
	g_return_val_if_fail(STDIOLINK_IS_INSTANCE(inst), NULL);
	return inst->config_path;
}

/**
 * stdiolink_instance_get_guard_name:
 * @inst: an instance
 *
 * Returns: (nullable): the process guard name, `stdiolink_guard_<uuid>`; %NULL once released
 */
const char *
stdiolink_instance_get_guard_name(StdiolinkInstance *inst)
{
	g_return_val_if_fail(STDIOLINK_IS_INSTANCE(inst), NULL);
	return inst->guard != NULL ? stdiolink_process_guard_get_name(inst->guard) : NULL;
}

/**
 * stdiolink_instance_to_json:
 * @inst: an instance
 * @detail: add `workingDirectory`, `logPath` and `commandLine` (http-api.md 6.2)
 *
 * Returns: (transfer full): InstanceJSON (http-api.md 1.5)
 */
JsonNode *
stdiolink_instance_to_json(StdiolinkInstance *inst, gboolean detail)
{
	JsonObject *obj;

	g_return_val_if_fail(STDIOLINK_IS_INSTANCE(inst), NULL);

	obj = json_object_new();
	json_object_set_string_member(obj, "id", inst->id);
	json_object_set_string_member(obj, "projectId", inst->project_id);
	json_object_set_string_member(obj, "serviceId", inst->service_id);
	json_object_set_int_member(obj, "pid", inst->pid);
	json_object_set_string_member(obj, "startedAt", inst->started_at);
	json_object_set_string_member(obj, "status",
				      stdiolink_instance_state_to_string(inst->state));

	if (detail) {
		JsonArray *cmd = json_array_new();

		for (guint i = 0; inst->argv[i] != NULL; i++)
			json_array_add_string_element(cmd, inst->argv[i]);
		json_object_set_string_member(obj, "workingDirectory", inst->working_directory);
		json_object_set_string_member(obj, "logPath", inst->log_path);
		json_object_set_array_member(obj, "commandLine", cmd);
	}

	return stdiolink_json_node_new_object(obj);
}

/**
 * stdiolink_instance_get_start_failure_code: (skip)
 * @inst: an instance
 *
 * Returns: why its start failed: `start_timeout` when it was not running in time,
 *   otherwise `start_failed`
 */
const char *
stdiolink_instance_get_start_failure_code(StdiolinkInstance *inst)
{
	return inst->start_failure_code;
}
