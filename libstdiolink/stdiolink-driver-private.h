#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * Driver internals shared by stdiolink-driver.c and stdiolink-driver-scan.c; not installed.
 */

/* the largest meta file read: beyond it a file is refused unread */
#define STDIOLINK_DRIVER_META_MAX_BYTES (8 * 1024 * 1024)

GBytes *stdiolink_driver_read_meta_file(const char *path, int *mode, GError **error);

G_END_DECLS
