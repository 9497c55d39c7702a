/* memmem() */
#define _GNU_SOURCE

#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gunixsocketaddress.h>

#include "sl-daemon-fixture.h"
#include "sl-test-utils.h"

/*
 * The daemon under a service manager: readiness and stopping notifications, watchdog
 * pings, a listening socket passed in, and one daemon per data root.
 */

static GSocket *
bind_notify_socket(SlDaemonFixture *fx)
{
	g_autofree char *path = sl_daemon_fixture_path(fx, "notify.sock");
	g_autoptr(GSocketAddress) address = g_unix_socket_address_new(path);
	g_autoptr(GError) error = NULL;
	GSocket *socket = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_DATAGRAM,
				       G_SOCKET_PROTOCOL_DEFAULT, &error);

	g_assert_no_error(error);
	g_socket_bind(socket, address, FALSE, &error);
	g_assert_no_error(error);
	g_socket_set_timeout(socket, 10);
	g_ptr_array_add(fx->env, g_strconcat("NOTIFY_SOCKET=", path, NULL));
	return socket;
}

/* the next datagram from the daemon, waiting at most the socket's timeout */
static char *
receive_state(GSocket *socket)
{
	char buffer[512] = {0};
	g_autoptr(GError) error = NULL;
	gssize n = g_socket_receive(socket, buffer, sizeof(buffer) - 1, NULL, &error);

	g_assert_no_error(error);
	return g_strndup(buffer, (gsize)n);
}

static void
test_notify_func(void)
{
	SlDaemonFixture fx;
	g_autoptr(GSocket) socket = NULL;
	g_autofree char *ready = NULL;
	g_autofree char *stopping = NULL;

	sl_daemon_fixture_init(&fx);
	socket = bind_notify_socket(&fx);
	sl_daemon_fixture_start(&fx);
	ready = receive_state(socket);
	g_assert_nonnull(strstr(ready, "READY=1"));

	sl_daemon_fixture_stop(&fx);
	stopping = receive_state(socket);
	g_assert_nonnull(strstr(stopping, "STOPPING=1"));
	sl_daemon_fixture_clear(&fx);
}

static void
test_watchdog_func(void)
{
	SlDaemonFixture fx;
	g_autoptr(GSocket) socket = NULL;
	g_autofree char *ready = NULL;

	sl_daemon_fixture_init(&fx);
	socket = bind_notify_socket(&fx);
	g_ptr_array_add(fx.env, g_strdup("WATCHDOG_USEC=200000"));
	sl_daemon_fixture_start(&fx);
	ready = receive_state(socket);
	g_assert_nonnull(strstr(ready, "READY=1"));

	/* pings at half the period, for as long as the loop runs */
	for (guint i = 0; i < 3; i++) {
		g_autofree char *ping = receive_state(socket);

		g_assert_cmpstr(ping, ==, "WATCHDOG=1");
	}
	sl_daemon_fixture_clear(&fx);
}

static void
test_socket_activation_func(void)
{
	SlDaemonFixture fx;
	g_autoptr(GSocket) listener = NULL;
	g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	g_autoptr(GSocketAddress) address = g_inet_socket_address_new(loopback, 0);
	g_autoptr(GSocketAddress) bound = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;
	g_autofree char *expected = NULL;
	guint status = 0;

	sl_daemon_fixture_init(&fx);
	listener = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
				G_SOCKET_PROTOCOL_DEFAULT, &error);
	g_assert_no_error(error);
	g_socket_bind(listener, address, TRUE, &error);
	g_assert_no_error(error);
	g_socket_listen(listener, &error);
	g_assert_no_error(error);
	bound = g_socket_get_local_address(listener, &error);
	expected = g_strdup_printf("http://127.0.0.1:%u",
				   g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound)));

	/* the daemon serves on the socket it was given, not on a port of its own */
	fx.listen_fd = g_socket_get_fd(listener);
	sl_daemon_fixture_start(&fx);
	g_assert_cmpstr(fx.base_url, ==, expected);
	node = sl_daemon_fixture_request(&fx, "GET", "/api/server/status", NULL, &status);
	g_assert_cmpuint(status, ==, 200);
	sl_daemon_fixture_clear(&fx);
}

static void
test_lock_func(void)
{
	SlDaemonFixture fx;
	g_autofree char *data_root_arg = NULL;
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	g_autofree char *holder = NULL;
	g_autoptr(GError) error = NULL;
	int wait_status = 0;

	sl_daemon_fixture_init(&fx);
	sl_daemon_fixture_start(&fx);
	data_root_arg = g_strconcat("--data-root=", fx.root, NULL);
	g_spawn_sync(NULL,
		     (char *[]){(char *)g_getenv("STDIOLINKD"), data_root_arg, "--port=0", NULL},
		     NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &wait_status, &error);
	g_assert_no_error(error);

	g_assert_false(g_spawn_check_wait_status(wait_status, NULL));
	holder = g_strdup_printf("(pid %s)", g_subprocess_get_identifier(fx.daemon));
	g_assert_nonnull(strstr(err, holder));

	/* the first daemon is unharmed */
	g_assert_cmpuint(sl_daemon_fixture_count_instances(&fx, NULL), ==, 0);
	sl_daemon_fixture_clear(&fx);
}

/* ---- the journal ---------------------------------------------------------------------- */

/* user and mount namespaces, so that /run can be a test folder; some sandboxes forbid them */
static gboolean
can_unshare(void)
{
	const char *argv[] = {"unshare", "-Urm", "true", NULL};
	int wait_status = 0;

	if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH |
			  G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL,
			  NULL, &wait_status, NULL))
		return FALSE;
	return g_spawn_check_wait_status(wait_status, NULL);
}

/* a datagram socket where GLib's journal writer sends: <run>/systemd/journal/socket */
static GSocket *
bind_journal_socket(const char *run_dir)
{
	g_autofree char *dir = g_build_filename(run_dir, "systemd", "journal", NULL);
	g_autofree char *path = g_build_filename(dir, "socket", NULL);
	g_autoptr(GSocketAddress) address = g_unix_socket_address_new(path);
	g_autoptr(GError) error = NULL;
	GSocket *socket;

	g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
	socket = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_DATAGRAM,
			      G_SOCKET_PROTOCOL_DEFAULT, &error);
	g_assert_no_error(error);
	g_socket_bind(socket, address, FALSE, &error);
	g_assert_no_error(error);
	g_socket_set_timeout(socket, 10);
	return socket;
}

/* receives journal entries until one holds @needle; all of them, joined */
static GString *
receive_journal_until(GSocket *socket, const char *needle)
{
	GString *seen = g_string_new(NULL);

	while (TRUE) {
		char buffer[16384];
		g_autoptr(GError) error = NULL;
		gssize n = g_socket_receive(socket, buffer, sizeof(buffer), NULL, &error);

		g_assert_no_error(error);
		g_string_append_len(seen, buffer, n);
		g_string_append_c(seen, '\n');
		if (memmem(buffer, (gsize)n, needle, strlen(needle)) != NULL)
			return seen;
	}
}

static gboolean
has_field(GString *entries, const char *field)
{
	return memmem(entries->str, entries->len, field, strlen(field)) != NULL;
}

/*
 * Starts the daemon with its stderr a file that JOURNAL_STREAM names, /run bound to @run.
 * Entering the user namespace clears a parent-death signal, so setpriv sets it after.
 */
static GSubprocess *
spawn_under_journal(SlDaemonFixture *fx, const char *run_dir, int stderr_fd)
{
	g_autoptr(GSubprocessLauncher) launcher =
	    g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
	g_autofree char *data_root = g_strconcat("--data-root=", fx->root, NULL);
	g_autofree char *stream = NULL;
	g_autoptr(GError) error = NULL;
	struct stat st;
	GSubprocess *daemon;

	g_assert_cmpint(fstat(stderr_fd, &st), ==, 0);
	stream = g_strdup_printf("%lu:%lu", (gulong)st.st_dev, (gulong)st.st_ino);
	g_subprocess_launcher_setenv(launcher, "JOURNAL_STREAM", stream, TRUE);
	g_subprocess_launcher_setenv(launcher, "SL_RUN_DIR", run_dir, TRUE);
	g_subprocess_launcher_take_stderr_fd(launcher, stderr_fd);
	daemon = g_subprocess_launcher_spawn(
	    launcher, &error, "unshare", "-Urm", "/bin/sh", "-c",
	    "mount --bind \"$SL_RUN_DIR\" /run && exec setpriv --pdeathsig KILL \"$0\" \"$@\"",
	    g_getenv("STDIOLINKD"),
	    data_root, "--port=0", "--log-level=debug", NULL);
	g_assert_no_error(error);
	return daemon;
}

/* skips without namespaces; else the data root, its run/ for /run, and a file for stderr */
static gboolean
journal_setup(SlDaemonFixture *fx, char **run_dir, char **err_path, int *stderr_fd)
{
	if (!can_unshare()) {
		g_test_skip("no user and mount namespaces here: /run cannot be replaced");
		return FALSE;
	}
	sl_daemon_fixture_init(fx);
	*run_dir = sl_test_make_dir(fx->root, "run");
	*err_path = sl_daemon_fixture_path(fx, "stderr.txt");
	*stderr_fd = open(*err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	g_assert_cmpint(*stderr_fd, >=, 0);
	return TRUE;
}

static void
test_journal_func(void)
{
	SlDaemonFixture fx;
	g_autofree char *run_dir = NULL;
	g_autofree char *err_path = NULL;
	g_autofree char *err_text = NULL;
	g_autoptr(GSocket) socket = NULL;
	g_autoptr(GSubprocess) daemon = NULL;
	g_autoptr(GString) entries = NULL;
	g_autoptr(GError) error = NULL;
	int stderr_fd;

	if (!journal_setup(&fx, &run_dir, &err_path, &stderr_fd))
		return;
	socket = bind_journal_socket(run_dir);

	/* a driver folder with nothing in it: a warning with fields of its own */
	g_free(sl_test_make_dir(fx.root, "drivers/empty"));
	daemon = spawn_under_journal(&fx, run_dir, stderr_fd);

	entries = receive_journal_until(socket, "STDIOLINK_DRIVER_DIR=");
	g_assert_true(has_field(entries, "MESSAGE=HTTP server listening on 127.0.0.1:"));
	g_assert_true(has_field(entries, "PRIORITY=4"));
	g_assert_true(has_field(entries, "STDIOLINK_REASON="));
	g_assert_true(has_field(entries, "GLIB_DOMAIN=Stdiolink"));

	/* nothing went to stderr: the journal had it all, to the last message */
	g_subprocess_send_signal(daemon, SIGTERM);
	g_string_free(receive_journal_until(socket, "MESSAGE=stopped"), TRUE);
	g_subprocess_wait_check(daemon, NULL, &error);
	g_assert_no_error(error);
	err_text = sl_test_read_file(err_path);
	g_assert_cmpstr(err_text, ==, "");
	sl_daemon_fixture_clear(&fx);
}

/* with JOURNAL_STREAM set but no journal to reach, messages still reach stderr */
static void
test_journal_unreachable_func(void)
{
	SlDaemonFixture fx;
	g_autofree char *run_dir = NULL;
	g_autofree char *err_path = NULL;
	g_autofree char *err_text = NULL;
	g_autoptr(GSubprocess) daemon = NULL;
	g_autoptr(GDataInputStream) out = NULL;
	g_autofree char *line = NULL;
	g_autoptr(GError) error = NULL;
	int stderr_fd;

	if (!journal_setup(&fx, &run_dir, &err_path, &stderr_fd))
		return;
	daemon = spawn_under_journal(&fx, run_dir, stderr_fd);

	out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(daemon));
	line = g_data_input_stream_read_line(out, NULL, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(strstr(line, "listening on"));
	g_subprocess_send_signal(daemon, SIGTERM);
	g_subprocess_wait_check(daemon, NULL, &error);
	g_assert_no_error(error);

	err_text = sl_test_read_file(err_path);
	g_assert_nonnull(strstr(err_text, "[I] HTTP server listening on 127.0.0.1:"));
	sl_daemon_fixture_clear(&fx);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	g_test_add_func("/systemd/notify", test_notify_func);
	g_test_add_func("/systemd/watchdog", test_watchdog_func);
	g_test_add_func("/systemd/socket-activation", test_socket_activation_func);
	g_test_add_func("/systemd/lock", test_lock_func);
	g_test_add_func("/systemd/journal", test_journal_func);
	g_test_add_func("/systemd/journal-unreachable", test_journal_unreachable_func);
	return g_test_run();
}
