#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gunixsocketaddress.h>

#include "sl-systemd.h"

/* the first descriptor systemd passes (SD_LISTEN_FDS_START) */
#define LISTEN_FDS_START 3

static GSocketAddress *
notify_address(void)
{
	const char *path = g_getenv("NOTIFY_SOCKET");

	if (path == NULL || *path == '\0')
		return NULL;

	/* "@name" is a socket in the abstract namespace */
	if (path[0] == '@')
		return g_unix_socket_address_new_with_type(path + 1, -1,
							   G_UNIX_SOCKET_ADDRESS_ABSTRACT);
	return g_unix_socket_address_new(path);
}

/**
 * sl_systemd_notify:
 * @state: newline-separated assignments, e.g. `READY=1`
 *
 * Sends @state to the service manager named by `NOTIFY_SOCKET`, as sd_notify() would. A
 * datagram to a local socket does not wait; without `NOTIFY_SOCKET` nothing happens.
 *
 * Returns: %TRUE if sent
 */
gboolean
sl_systemd_notify(const char *state)
{
	g_autoptr(GSocketAddress) address = notify_address();
	g_autoptr(GSocket) socket = NULL;
	g_autoptr(GError) error = NULL;

	if (address == NULL)
		return FALSE;
	socket = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_DATAGRAM,
			      G_SOCKET_PROTOCOL_DEFAULT, &error);
	if (socket == NULL ||
	    g_socket_send_to(socket, address, state, strlen(state), NULL, &error) < 0) {
		g_warning("cannot notify the service manager: %s", error->message);
		return FALSE;
	}
	return TRUE;
}

static gboolean
watchdog_cb(gpointer user_data)
{
	sl_systemd_notify("WATCHDOG=1");
	return G_SOURCE_CONTINUE;
}

/**
 * sl_systemd_watchdog_start:
 *
 * When the unit sets `WatchdogSec=`, systemd passes `WATCHDOG_USEC`; pinging at half that
 * period from the main loop means a stalled loop is noticed and the daemon restarted.
 *
 * Returns: the timer's source id, or 0 if no watchdog is asked for
 */
guint
sl_systemd_watchdog_start(void)
{
	const char *usec_text = g_getenv("WATCHDOG_USEC");
	const char *pid_text = g_getenv("WATCHDOG_PID");
	guint64 usec;

	if (usec_text == NULL)
		return 0;
	if (pid_text != NULL && g_ascii_strtoull(pid_text, NULL, 10) != (guint64)getpid())
		return 0;
	usec = g_ascii_strtoull(usec_text, NULL, 10);
	if (usec == 0)
		return 0;
	return g_timeout_add(MAX(1, (guint)(usec / 2000)), watchdog_cb, NULL);
}

/**
 * sl_systemd_take_listen_socket:
 * @error: return location for a #GError
 *
 * With socket activation systemd has bound the address already and passes the listening
 * socket as descriptor 3, with `LISTEN_PID` naming this process. The variables are
 * removed so that instances do not inherit them.
 *
 * Returns: (transfer full) (nullable): the socket, or %NULL with @error unset when the
 *   daemon was not socket-activated
 */
GSocket *
sl_systemd_take_listen_socket(GError **error)
{
	const char *pid_text = g_getenv("LISTEN_PID");
	const char *fds_text = g_getenv("LISTEN_FDS");
	guint64 n_fds;
	GSocket *socket;

	if (pid_text == NULL || fds_text == NULL ||
	    g_ascii_strtoull(pid_text, NULL, 10) != (guint64)getpid())
		return NULL;
	n_fds = g_ascii_strtoull(fds_text, NULL, 10);
	g_unsetenv("LISTEN_PID");
	g_unsetenv("LISTEN_FDS");
	g_unsetenv("LISTEN_FDNAMES");
	if (n_fds != 1) {
		g_set_error(error,
			    G_IO_ERROR,
			    G_IO_ERROR_INVALID_ARGUMENT,
			    /* TRANSLATORS: %llu is how many sockets systemd passed */
			    _("expected one socket from the service manager, got %llu"),
			    (unsigned long long)n_fds);
		return NULL;
	}
	socket = g_socket_new_from_fd(LISTEN_FDS_START, error);
	if (socket != NULL)
		g_socket_set_blocking(socket, FALSE);
	return socket;
}

/**
 * sl_systemd_stderr_is_journal:
 *
 * systemd.exec(5): a service whose stderr goes to the journal gets `JOURNAL_STREAM` set to
 * the device and inode numbers of that stream. When they name our stderr, messages can be
 * sent to the journal with their fields instead of as text.
 *
 * Returns: whether stderr is the journal's stream
 */
gboolean
sl_systemd_stderr_is_journal(void)
{
	const char *stream = g_getenv("JOURNAL_STREAM");
	guint64 dev = 0, ino = 0;
	struct stat st;

	if (stream == NULL || sscanf(stream, "%" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT, &dev,
				     &ino) != 2)
		return FALSE;
	if (fstat(STDERR_FILENO, &st) != 0)
		return FALSE;
	return (guint64)st.st_dev == dev && (guint64)st.st_ino == ino;
}
