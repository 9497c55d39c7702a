#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sl-server-log.h"
#include "sl-server.h"
#include "sl-systemd.h"
#include "stdiolink.h"

#define LAG_PROBE_MS	   100
#define LAG_WARN_US	   (50 * 1000)
#define LOG_FLUSH_LIMIT_MS 2000
#define EXIT_USAGE	   2
#define EXIT_FAILURE_RUN   1

typedef struct {
	GMainLoop *loop;
	StdiolinkEngine *engine;
	SlServer *server;
	char *token;		/* from the token file, or NULL */
	GSocket *listen_socket; /* from socket activation, or NULL */
	int lock_fd;
	GLogLevelFlags log_threshold;
	gboolean journal; /* stderr is the journal's stream: send fields, not text */
	SlServerLog *server_log; /* logs/server.log, once the data root is ours */
	gint64 lag_expected_us;
	gint64 lag_max_us;
	gboolean shutting_down;
	guint flush_limit_id; /* the exit does not wait longer than this for the log */
	int exit_code;
} SlDaemon;

/* command-line values; NULL or PORT_NOT_GIVEN means the file or default applies */
#define PORT_NOT_GIVEN G_MININT
static char *opt_data_root;
static char *opt_host;
static gint opt_port = PORT_NOT_GIVEN;
static char *opt_log_level;
static char *opt_service_program;
static char *opt_webui_dir;
static char *opt_token_file;
static gboolean opt_version;

static const GOptionEntry option_entries[] = {
	{"data-root", 'd', 0, G_OPTION_ARG_FILENAME, &opt_data_root,
	 /* TRANSLATORS: --help text */
	 N_("Data root with services/, projects/, drivers/ and logs/ "
	    "(default: $XDG_DATA_HOME/stdiolink)"),
	 N_("DIR")},
	{"host", 0, 0, G_OPTION_ARG_STRING, &opt_host,
	 N_("Address to listen on (default 127.0.0.1)"), N_("ADDRESS")},
	{"port", 'p', 0, G_OPTION_ARG_INT, &opt_port,
	 N_("Port to listen on, 0 for any free port (default 6200)"), N_("PORT")},
	{"log-level", 0, 0, G_OPTION_ARG_STRING, &opt_log_level,
	 N_("debug, info, warn or error (default info)"), N_("LEVEL")},
	{"service-program", 0, 0, G_OPTION_ARG_FILENAME, &opt_service_program,
	 N_("Program that runs JavaScript services (stdiolink_service)"), N_("PATH")},
	{"webui-dir", 0, 0, G_OPTION_ARG_FILENAME, &opt_webui_dir,
	 N_("Folder of the web console (default <data root>/webui)"), N_("DIR")},
	{"token-file", 0, 0, G_OPTION_ARG_FILENAME, &opt_token_file,
	 N_("File holding a token every API request must carry (Authorization: Bearer)"),
	 N_("FILE")},
	{"version", 'v', 0, G_OPTION_ARG_NONE, &opt_version, N_("Print the version and exit"),
	 NULL},
	{NULL},
};

/* ---- logging ------------------------------------------------------------------------------ */

static char
level_letter(GLogLevelFlags level)
{
	if (level & G_LOG_LEVEL_ERROR)
		return 'C';
	if (level & G_LOG_LEVEL_CRITICAL)
		return 'E';
	if (level & G_LOG_LEVEL_WARNING)
		return 'W';
	if (level & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO))
		return 'I';
	return 'D';
}

static const char *
field_value(const GLogField *fields, gsize n_fields, const char *key)
{
	for (gsize i = 0; i < n_fields; i++) {
		if (g_str_equal(fields[i].key, key))
			return fields[i].value;
	}
	return NULL;
}

/*
 * Every message goes to logs/server.log as `<ts> [I] text`. Under systemd (JOURNAL_STREAM
 * names our stderr) the journal also gets the structured fields; otherwise stderr gets the
 * same line as the file.
 */
static GLogWriterOutput
log_writer_cb(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
	SlDaemon *daemon = user_data;
	const char *message = field_value(fields, n_fields, "MESSAGE");
	SlServerLog *server_log = g_atomic_pointer_get(&daemon->server_log);
	g_autofree char *ts = NULL;
	g_autofree char *line = NULL;

	if ((level & G_LOG_LEVEL_MASK) > daemon->log_threshold)
		return G_LOG_WRITER_HANDLED;
	ts = stdiolink_now_iso8601(TRUE);
	line = g_strdup_printf("%s [%c] %s", ts, level_letter(level),
			       message != NULL ? message : "");
	if (server_log != NULL)
		sl_server_log_append(server_log, line);

	/* a journal that cannot be reached must not swallow the message */
	if (daemon->journal &&
	    g_log_writer_journald(level, fields, n_fields, NULL) == G_LOG_WRITER_HANDLED)
		return G_LOG_WRITER_HANDLED;
	fprintf(stderr, "%s\n", line);
	fflush(stderr);
	return G_LOG_WRITER_HANDLED;
}

static gboolean
parse_log_level(const char *name, GLogLevelFlags *threshold)
{
	if (g_strcmp0(name, "debug") == 0)
		*threshold = G_LOG_LEVEL_DEBUG;
	else if (g_strcmp0(name, "info") == 0)
		*threshold = G_LOG_LEVEL_INFO;
	else if (g_strcmp0(name, "warn") == 0)
		*threshold = G_LOG_LEVEL_WARNING;
	else if (g_strcmp0(name, "error") == 0)
		*threshold = G_LOG_LEVEL_CRITICAL;
	else
		return FALSE;
	return TRUE;
}

/* ---- configuration ------------------------------------------------------------------------- */

static char *
resolve_data_root(void)
{
	if (opt_data_root != NULL)
		return g_canonicalize_filename(opt_data_root, NULL);
	return g_build_filename(g_get_user_data_dir(), "stdiolink", NULL);
}

/* command line > config.json > defaults; a flag that was not given never overrides */
static gboolean
apply_overrides(StdiolinkServerConfig *config, GError **error)
{
	if (opt_port != PORT_NOT_GIVEN) {
		if (opt_port < 0 || opt_port > 65535) {
			g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
				    _("invalid port: %d"), opt_port);
			return FALSE;
		}
		config->port = (guint)opt_port;
	}
	if (opt_host != NULL) {
		if (*opt_host == '\0') {
			g_set_error_literal(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
					    _("host cannot be empty"));
			return FALSE;
		}
		g_free(config->host);
		config->host = g_strdup(opt_host);
	}
	if (opt_log_level != NULL) {
		g_free(config->log_level);
		config->log_level = g_strdup(opt_log_level);
	}
	if (opt_service_program != NULL) {
		g_free(config->service_program);
		config->service_program = g_canonicalize_filename(opt_service_program, NULL);
	}
	if (opt_token_file != NULL) {
		g_free(config->token_file);
		config->token_file = g_canonicalize_filename(opt_token_file, NULL);
	}
	if (opt_webui_dir != NULL) {
		g_free(config->webui_dir);
		config->webui_dir = g_strdup(opt_webui_dir);
	}
	return TRUE;
}

/* ---- main-loop lag ------------------------------------------------------------------------ */

/*
 * A timer that should fire every LAG_PROBE_MS: how late it fires is how long something
 * held the loop. The status route reports it; a long stall is logged.
 */
static gboolean
lag_probe_cb(gpointer user_data)
{
	SlDaemon *daemon = user_data;
	gint64 now = g_get_monotonic_time();
	gint64 lag = MAX(0, now - daemon->lag_expected_us);

	daemon->lag_max_us = MAX(daemon->lag_max_us, lag);
	stdiolink_engine_set_main_loop_lag(daemon->engine, lag, daemon->lag_max_us);
	if (lag > LAG_WARN_US) {
		const char *last = daemon->server != NULL
					   ? sl_server_get_last_request(daemon->server)
					   : NULL;

		/* the last request dispatched is the usual suspect; timers and exits can be too */
		g_warning("main loop stalled for %" G_GINT64_FORMAT " ms (last request: %s)",
			  lag / 1000, last != NULL ? last : "none");
	}
	daemon->lag_expected_us = now + LAG_PROBE_MS * 1000;
	return G_SOURCE_CONTINUE;
}

/* ---- lifecycle ---------------------------------------------------------------------------- */

static void
server_log_flushed_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	SlDaemon *daemon = user_data;
	g_autoptr(GError) error = NULL;

	/* the writer has warned about its file already, on stderr */
	sl_server_log_flush_finish(daemon->server_log, res, &error);
	g_clear_handle_id(&daemon->flush_limit_id, g_source_remove);
	g_main_loop_quit(daemon->loop);
}

static gboolean
flush_limit_cb(gpointer user_data)
{
	SlDaemon *daemon = user_data;

	daemon->flush_limit_id = 0;
	g_main_loop_quit(daemon->loop);
	return G_SOURCE_REMOVE;
}

/*
 * The last lines, such as "stopped", should reach logs/server.log before the process ends;
 * a log on a stalled disk does not keep the daemon from exiting, though.
 */
static void
quit_after_flush(SlDaemon *daemon)
{
	daemon->flush_limit_id = g_timeout_add(LOG_FLUSH_LIMIT_MS, flush_limit_cb, daemon);
	sl_server_log_flush_async(daemon->server_log, server_log_flushed_cb, daemon);
}

static void
server_closed_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	SlDaemon *daemon = user_data;

	sl_server_close_finish(SL_SERVER(source), res, NULL);
	g_message("stopped");
	quit_after_flush(daemon);
}

/* instances and jobs are gone: held requests still waiting are answered, then clients go */
static void
shutdown_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	SlDaemon *daemon = user_data;
	g_autoptr(GError) error = NULL;

	if (!stdiolink_engine_shutdown_finish(STDIOLINK_ENGINE(source), res, &error))
		g_warning("shutdown: %s", error->message);
	sl_server_close_async(daemon->server, server_closed_cb, daemon);
}

/* ---- SIGHUP: reload ------------------------------------------------------------------------ */

typedef struct {
	char *data_root;
	StdiolinkServerConfig *config;
	char *token;
} Reload;

static void
reload_free(Reload *reload)
{
	g_free(reload->data_root);
	g_clear_pointer(&reload->config, stdiolink_server_config_free);
	g_free(reload->token);
	g_free(reload);
}

static gboolean read_token(const StdiolinkServerConfig *config, const char *data_root,
			   char **token, GError **error);

/* worker thread: read config.json and the token file again, the way start-up did */
static void
reload_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
	Reload *reload = task_data;
	GError *error = NULL;
	GLogLevelFlags unused;

	reload->config = stdiolink_server_config_new_default();
	if (!stdiolink_server_config_load(reload->data_root, reload->config, &error) ||
	    !apply_overrides(reload->config, &error) ||
	    !read_token(reload->config, reload->data_root, &reload->token, &error)) {
		g_task_return_error(task, error);
		return;
	}
	if (!parse_log_level(reload->config->log_level, &unused)) {
		g_task_return_new_error(task, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
					"invalid log level: %s", reload->config->log_level);
		return;
	}
	g_task_return_boolean(task, TRUE);
}

static void
reload_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	SlDaemon *daemon = user_data;
	Reload *reload = g_task_get_task_data(G_TASK(res));
	g_autoptr(GError) error = NULL;

	/* a broken file changes nothing: the daemon goes on with what it had */
	if (!g_task_propagate_boolean(G_TASK(res), &error)) {
		g_warning("config reload failed, keeping the current settings: %s",
			  error->message);
		return;
	}
	parse_log_level(reload->config->log_level, &daemon->log_threshold);
	stdiolink_engine_apply_reloaded_config(daemon->engine, reload->config);
	g_free(daemon->token);
	daemon->token = g_strdup(reload->token);
	if (daemon->server != NULL)
		sl_server_set_token(daemon->server, daemon->token);
	g_message("configuration reloaded");
}

/*
 * SIGHUP re-reads config.json (log level, CORS, allowed hosts, token) without dropping a
 * client. It is also what the daemon gets when the terminal that started it closes, and
 * then a reload is harmless.
 */
static gboolean
hangup_signal_cb(gpointer user_data)
{
	SlDaemon *daemon = user_data;
	g_autoptr(GTask) task = g_task_new(NULL, NULL, reload_done_cb, daemon);
	Reload *reload = g_new0(Reload, 1);

	g_message("SIGHUP received: reloading the configuration");
	reload->data_root = g_strdup(stdiolink_engine_get_data_root(daemon->engine));
	g_task_set_task_data(task, reload, (GDestroyNotify)reload_free);
	g_task_run_in_thread(task, reload_thread);
	return G_SOURCE_CONTINUE;
}

static gboolean
quit_signal_cb(gpointer user_data)
{
	SlDaemon *daemon = user_data;

	/* no grace period any more, but nothing of ours may outlive the daemon either */
	if (daemon->shutting_down) {
		g_message("second signal: killing the instances and exiting now");
		stdiolink_engine_kill_instances(daemon->engine);
		if (daemon->flush_limit_id == 0)
			quit_after_flush(daemon);
		return G_SOURCE_REMOVE;
	}
	daemon->shutting_down = TRUE;
	sl_systemd_notify("STOPPING=1");
	g_message("shutting down: stopping instances");
	sl_server_begin_close(daemon->server);
	stdiolink_engine_shutdown_async(daemon->engine, NULL, shutdown_done_cb, daemon);
	return G_SOURCE_CONTINUE;
}

/* the services scan of start-up failed only if the data root cannot be set up */
static void
loaded_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	SlDaemon *daemon = user_data;
	g_autoptr(GError) error = NULL;

	/* a shutdown during start-up cancels the scan; the shutdown finishes the daemon */
	if (!stdiolink_engine_load_finish(daemon->engine, res, &error) &&
	    !daemon->shutting_down) {
		g_printerr(_("Error: %s\n"), error->message);
		daemon->exit_code = EXIT_FAILURE_RUN;
		quit_after_flush(daemon);
	}
}

static gboolean
listen_now(SlDaemon *daemon, const StdiolinkServerConfig *config)
{
	g_autoptr(GError) error = NULL;

	daemon->server = sl_server_new(daemon->engine);
	sl_server_set_token(daemon->server, daemon->token);
	if (daemon->listen_socket != NULL) {
		if (!sl_server_listen_socket(daemon->server, daemon->listen_socket, &error)) {
			g_printerr(_("Error: cannot serve on the socket from the service "
				     "manager: %s\n"),
				   error->message);
			return FALSE;
		}
	} else if (!sl_server_listen(daemon->server, config->host, config->port, &error)) {
		g_printerr(_("Error: failed to listen on %s:%u: %s\n"), config->host, config->port,
			   error->message);
		return FALSE;
	}
	return TRUE;
}

/*
 * The daemon listens before it reads the data root (DESIGN.md): the start-up scans are
 * jobs like any other, and clients are answered while drivers export their metadata.
 */
static gboolean
start_serving(SlDaemon *daemon)
{
	const StdiolinkServerConfig *config = stdiolink_engine_get_config(daemon->engine);
	gboolean is_ipv6 = strchr(config->host, ':') != NULL;

	if (!listen_now(daemon, config))
		return FALSE;
	stdiolink_engine_set_listen_port(daemon->engine, sl_server_get_port(daemon->server));

	/* tests and scripts read this line to learn the port chosen for --port=0 */
	g_print("stdiolinkd: listening on http://%s%s%s:%u\n", is_ipv6 ? "[" : "", config->host,
		is_ipv6 ? "]" : "", sl_server_get_port(daemon->server));
	fflush(stdout);
	g_message("HTTP server listening on %s:%u", config->host,
		  sl_server_get_port(daemon->server));
	sl_systemd_notify("READY=1\nSTATUS=serving the API");
	sl_systemd_watchdog_start();

	stdiolink_engine_load_async(daemon->engine, NULL, loaded_cb, daemon);
	return TRUE;
}

/*
 * One daemon per data root: two would race on project files and both start the same
 * daemons. The lock dies with the process, so a crash never leaves it stale.
 */
static int
acquire_data_root_lock(const char *data_root, GError **error)
{
	g_autofree char *path = g_build_filename(data_root, ".stdiolinkd.lock", NULL);
	struct flock lock = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	g_autofree char *pid_text = g_strdup_printf("%d\n", (int)getpid());
	int fd;

	if (g_mkdir_with_parents(data_root, 0755) != 0 ||
	    (fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0) {
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
			    _("cannot open lock file %s: %s"), path, g_strerror(errno));
		return -1;
	}
	if (fcntl(fd, F_SETLK, &lock) != 0) {
		struct flock holder = {.l_type = F_WRLCK, .l_whence = SEEK_SET};

		fcntl(fd, F_GETLK, &holder);
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_EXIST,
			    _("another stdiolinkd (pid %d) already serves %s"), (int)holder.l_pid,
			    data_root);
		close(fd);
		return -1;
	}
	if (ftruncate(fd, 0) != 0 || write(fd, pid_text, strlen(pid_text)) < 0)
		g_debug("cannot record the pid in %s", path);
	return fd;
}

/* the token file: relative paths from config.json are relative to the data root */
static gboolean
read_token(const StdiolinkServerConfig *config, const char *data_root, char **token,
	   GError **error)
{
	g_autofree char *path = NULL;
	g_autofree char *text = NULL;

	*token = NULL;
	if (config->token_file == NULL || *config->token_file == '\0')
		return TRUE;
	path = g_path_is_absolute(config->token_file)
		   ? g_strdup(config->token_file)
		   : g_build_filename(data_root, config->token_file, NULL);
	if (!g_file_get_contents(path, &text, NULL, error))
		return FALSE;
	g_strstrip(text);
	if (*text == '\0') {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, _("token file is empty: %s"),
			    path);
		return FALSE;
	}
	*token = g_steal_pointer(&text);
	return TRUE;
}

static gboolean
parse_options(int *argc, char ***argv, GError **error)
{
	g_autoptr(GOptionContext) context = g_option_context_new(NULL);

	/* TRANSLATORS: one-line summary in --help */
	g_option_context_set_summary(context,
				     _("Supervise stdio device drivers and the services that use "
				       "them, and serve them over HTTP."));
	g_option_context_set_description(
	    context, _("The daemon reads <data root>/config.json; command-line options override "
		       "it.\nSee stdiolinkd(8) for the configuration keys and the HTTP API."));
	g_option_context_add_main_entries(context, option_entries, GETTEXT_PACKAGE);
	return g_option_context_parse(context, argc, argv, error);
}

static int
run(SlDaemon *daemon)
{
	g_autoptr(StdiolinkServerConfig) config = stdiolink_server_config_new_default();
	g_autofree char *data_root = resolve_data_root();
	g_autofree char *self_path = g_file_read_link("/proc/self/exe", NULL);
	g_autofree char *self_dir = self_path != NULL ? g_path_get_dirname(self_path) : NULL;
	g_autofree char *server_log_path = NULL;
	g_autoptr(GError) error = NULL;

	if (!stdiolink_server_config_load(data_root, config, &error) ||
	    !apply_overrides(config, &error)) {
		g_printerr(_("Error: %s\n"), error->message);
		return EXIT_USAGE;
	}
	if (!parse_log_level(config->log_level, &daemon->log_threshold)) {
		g_printerr(_("Error: invalid log level: %s\n"), config->log_level);
		return EXIT_USAGE;
	}
	if (!read_token(config, data_root, &daemon->token, &error)) {
		g_printerr(_("Error: %s\n"), error->message);
		return EXIT_USAGE;
	}
	daemon->lock_fd = acquire_data_root_lock(data_root, &error);
	if (daemon->lock_fd < 0) {
		g_printerr(_("Error: %s\n"), error->message);
		return EXIT_FAILURE_RUN;
	}

	/* taken before any thread exists: it edits the environment */
	daemon->listen_socket = sl_systemd_take_listen_socket(&error);
	if (error != NULL) {
		g_printerr(_("Error: %s\n"), error->message);
		return EXIT_FAILURE_RUN;
	}

	/* only the holder of the lock may write the data root's server log */
	server_log_path = g_build_filename(data_root, "logs", "server.log", NULL);
	g_atomic_pointer_set(&daemon->server_log,
			     sl_server_log_new(server_log_path, config->log_max_bytes,
					       (guint)config->log_max_files));

	daemon->loop = g_main_loop_new(NULL, FALSE);
	daemon->engine = stdiolink_engine_new(data_root, config, self_dir);
	g_message("data root %s", data_root);

	g_unix_signal_add(SIGTERM, quit_signal_cb, daemon);
	g_unix_signal_add(SIGINT, quit_signal_cb, daemon);
	g_unix_signal_add(SIGHUP, hangup_signal_cb, daemon);
	daemon->lag_expected_us = g_get_monotonic_time() + LAG_PROBE_MS * 1000;
	g_timeout_add(LAG_PROBE_MS, lag_probe_cb, daemon);

	if (!start_serving(daemon))
		daemon->exit_code = EXIT_FAILURE_RUN;
	else
		g_main_loop_run(daemon->loop);

	g_clear_object(&daemon->server);
	g_clear_object(&daemon->engine);
	g_clear_object(&daemon->listen_socket);
	g_clear_pointer(&daemon->token, g_free);
	sl_server_log_free(g_atomic_pointer_exchange(&daemon->server_log, NULL));
	close(daemon->lock_fd);
	g_main_loop_unref(daemon->loop);
	return daemon->exit_code;
}

int
main(int argc, char **argv)
{
	SlDaemon daemon = {.log_threshold = G_LOG_LEVEL_INFO};
	g_autoptr(GError) error = NULL;

	setlocale(LC_ALL, "");
	bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
	bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
	textdomain(GETTEXT_PACKAGE);

	/*
	 * GLib sets up its C locale on the first ASCII number conversion. A thread that waits
	 * for another to finish that set-up may come back with errno changed, and then
	 * g_ascii_string_to_unsigned() rejects a valid number. Do it before any thread exists.
	 */
	g_ascii_strtoull("0", NULL, 10);

	daemon.journal = sl_systemd_stderr_is_journal();
	g_log_set_writer_func(log_writer_cb, &daemon, NULL);

	if (!parse_options(&argc, &argv, &error)) {
		g_printerr(_("Error: %s\n"), error->message);
		return EXIT_USAGE;
	}
	if (opt_version) {
		g_print("stdiolinkd %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (argc > 1) {
		g_printerr(_("Error: unknown argument: %s\n"), argv[1]);
		return EXIT_USAGE;
	}
	return run(&daemon);
}
