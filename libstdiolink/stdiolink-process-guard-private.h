#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define STDIOLINK_TYPE_PROCESS_GUARD (stdiolink_process_guard_get_type())
G_DECLARE_FINAL_TYPE(StdiolinkProcessGuard,
		     stdiolink_process_guard,
		     STDIOLINK,
		     PROCESS_GUARD,
		     GObject)

StdiolinkProcessGuard *stdiolink_process_guard_new(GError **error);
StdiolinkProcessGuard *stdiolink_process_guard_new_with_name(const char *name, GError **error);
const char *stdiolink_process_guard_get_name(StdiolinkProcessGuard *guard);
const char *stdiolink_process_guard_get_path(StdiolinkProcessGuard *guard);
guint stdiolink_process_guard_get_n_connections(StdiolinkProcessGuard *guard);
void stdiolink_process_guard_close(StdiolinkProcessGuard *guard);

G_END_DECLS
