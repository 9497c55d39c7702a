#pragma once

#include "stdiolink-log-writer.h"

G_BEGIN_DECLS

/* a partial line longer than this is written as one line (data-root.md 8.1) */
#define STDIOLINK_LINE_SPLITTER_MAX_PARTIAL (1024 * 1024)

void stdiolink_log_writer_append_data(StdiolinkLogWriter *w, const char *data, gsize len);
gboolean stdiolink_log_writer_has_warned(StdiolinkLogWriter *w);

/**
 * StdiolinkLineSplitter:
 *
 * Turns the bytes of one pipe into project log lines `<ts> | <prefix><line>`.
 */
typedef struct _StdiolinkLineSplitter StdiolinkLineSplitter;

StdiolinkLineSplitter *stdiolink_line_splitter_new(StdiolinkLogWriter *w, const char *prefix);
void stdiolink_line_splitter_feed(StdiolinkLineSplitter *s, const guint8 *data, gsize len);
void stdiolink_line_splitter_write_line(StdiolinkLineSplitter *s, const char *line);
void stdiolink_line_splitter_finish(StdiolinkLineSplitter *s);
void stdiolink_line_splitter_free(StdiolinkLineSplitter *s);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(StdiolinkLineSplitter, stdiolink_line_splitter_free)

G_END_DECLS
