#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* http-api.md 10: a tail never reads more than this from the end of the file */
#define STDIOLINK_LOG_TAIL_MAX_BYTES 4194304

GPtrArray *stdiolink_log_tail_read(const char *path, guint max_lines, GError **error);
void stdiolink_log_tail_read_async(const char *path,
				   guint max_lines,
				   GCancellable *cancellable,
				   GAsyncReadyCallback callback,
				   gpointer user_data);
GPtrArray *stdiolink_log_tail_read_finish(GAsyncResult *res, GError **error);

G_END_DECLS
