#pragma once

#include <libsoup/soup.h>

#include "stdiolink.h"

G_BEGIN_DECLS

/* driverlab.md */
#define SL_DRIVERLAB_PATH	       "/api/driverlab"
#define SL_DRIVERLAB_MAX_CONNECTIONS   10
#define SL_DRIVERLAB_PING_MS	       30000
#define SL_DRIVERLAB_PONG_TIMEOUT_MS   60000
#define SL_DRIVERLAB_META_TIMEOUT_MS   5000
#define SL_DRIVERLAB_MAX_MESSAGE_BYTES (1024 * 1024)

#define SL_TYPE_DRIVERLAB (sl_driverlab_get_type())
G_DECLARE_FINAL_TYPE(SlDriverlab, sl_driverlab, SL, DRIVERLAB, GObject)

SlDriverlab *sl_driverlab_new(StdiolinkEngine *engine);
void sl_driverlab_attach(SlDriverlab *self, SoupServer *soup);
gboolean sl_driverlab_check_upgrade(SlDriverlab *self, SoupServerMessage *msg, const char *path);
void sl_driverlab_close_all(SlDriverlab *self);
guint sl_driverlab_get_connection_count(SlDriverlab *self);

G_END_DECLS
