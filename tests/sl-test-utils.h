#pragma once

#include <gio/gio.h>

#include "stdiolink.h"

G_BEGIN_DECLS

/* File helpers shared by the test programs: each one asserts instead of returning errors. */

char *sl_test_make_tmp_dir(const char *tmpl);
char *sl_test_make_dir(const char *parent, const char *name);
gboolean sl_test_remove_tree(const char *path);

void sl_test_write_file(const char *dir, const char *name, const char *contents, int mode);
char *sl_test_read_file(const char *path);
void sl_test_copy_tree(const char *src, const char *dst);

GPtrArray *sl_test_capture_scan_warnings(const char *dir_field);

char *sl_test_read_line(GDataInputStream *stream);

/* processes and the event bus */
gboolean sl_test_process_gone(GPid pid);
void sl_test_flush_bus(StdiolinkEventBus *bus);

G_END_DECLS
