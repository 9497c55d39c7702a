#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

char *stdiolink_time_to_iso8601(GDateTime *time, gboolean with_millis);
char *stdiolink_now_iso8601(gboolean with_millis);

gboolean stdiolink_write_file_atomic(const char *path,
				     const char *contents,
				     gssize length,
				     int mode,
				     GError **error);

char *stdiolink_random_hex(guint n_chars);
void stdiolink_sort_strings(GPtrArray *strings);
gboolean stdiolink_is_valid_project_id(const char *id);

G_END_DECLS
