#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define STDIOLINK_TYPE_LOG_WRITER (stdiolink_log_writer_get_type())
G_DECLARE_FINAL_TYPE(StdiolinkLogWriter, stdiolink_log_writer, STDIOLINK, LOG_WRITER, GObject)

StdiolinkLogWriter *stdiolink_log_writer_new(const char *path, gint64 max_bytes, guint max_files);
const char *stdiolink_log_writer_get_path(StdiolinkLogWriter *w);
void stdiolink_log_writer_append_line(StdiolinkLogWriter *w, const char *line);
void stdiolink_log_writer_flush_async(StdiolinkLogWriter *w,
				      GCancellable *c,
				      GAsyncReadyCallback cb,
				      gpointer data);
gboolean stdiolink_log_writer_flush_finish(StdiolinkLogWriter *w,
					   GAsyncResult *res,
					   GError **error);
char *stdiolink_log_writer_rotated_path(const char *path, guint n);

G_END_DECLS
