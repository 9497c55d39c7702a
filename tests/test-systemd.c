#include "config.h"

#include <signal.h>
#include <string.h>

#include <gio/gunixsocketaddress.h>

#include "sl-daemon-fixture.h"

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

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	g_test_add_func("/systemd/notify", test_notify_func);
	g_test_add_func("/systemd/watchdog", test_watchdog_func);
	g_test_add_func("/systemd/socket-activation", test_socket_activation_func);
	g_test_add_func("/systemd/lock", test_lock_func);
	return g_test_run();
}
