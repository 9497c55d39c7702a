#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/*
 * logs/server.log (data-root.md 8): every message the daemon logs, one `<ts> [I] text` line
 * each, in a rotating file. Lines may come from any thread; the file is written from the
 * main loop without blocking it.
 */

typedef struct _SlServerLog SlServerLog;

SlServerLog *sl_server_log_new(const char *path, gint64 max_bytes, guint max_files);
void sl_server_log_free(SlServerLog *self);
void sl_server_log_append(SlServerLog *self, const char *line);
void sl_server_log_flush_async(SlServerLog *self, GAsyncReadyCallback callback,
			       gpointer user_data);
gboolean sl_server_log_flush_finish(SlServerLog *self, GAsyncResult *result, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(SlServerLog, sl_server_log_free)

G_END_DECLS
