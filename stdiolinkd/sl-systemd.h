#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* systemd integration without libsystemd: the notify datagram protocol and LISTEN_FDS */

gboolean sl_systemd_notify(const char *state);
guint sl_systemd_watchdog_start(void);
GSocket *sl_systemd_take_listen_socket(GError **error);
gboolean sl_systemd_stderr_is_journal(void);

G_END_DECLS
