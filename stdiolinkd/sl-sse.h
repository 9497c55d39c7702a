#pragma once

#include <libsoup/soup.h>

#include "stdiolink.h"

G_BEGIN_DECLS

/* events.md 2 */
#define SL_SSE_MAX_STREAMS	   32
#define SL_SSE_HEARTBEAT_MS	   30000
/* a stream whose unwritten data stops moving for this long is dead */
#define SL_SSE_STALL_MS		   60000
/* bytes queued for one subscriber beyond what its socket took */
#define SL_SSE_MAX_PENDING_BYTES   (1024 * 1024)
/* what the kernel may hold for one subscriber; the rest waits in the counted queue */
#define SL_SSE_SOCKET_BUFFER_BYTES 16384

#define SL_TYPE_SSE (sl_sse_get_type())
G_DECLARE_FINAL_TYPE(SlSse, sl_sse, SL, SSE, GObject)

SlSse *sl_sse_new(StdiolinkEventBus *bus);
void sl_sse_add_stream(SlSse *self, SoupServerMessage *msg, const char *filter);
void sl_sse_close_all(SlSse *self);

guint sl_sse_get_stream_count(SlSse *self);
guint64 sl_sse_get_dropped_streams(SlSse *self);
guint64 sl_sse_get_dropped_events(SlSse *self);
guint64 sl_sse_get_evicted_streams(SlSse *self);

G_END_DECLS
