#pragma once

#include <libsoup/soup.h>

#include "sl-sse.h"
#include "stdiolink.h"

G_BEGIN_DECLS

/* request counters and latencies, rendered with the engine's gauges as Prometheus text */

typedef struct _SlMetrics SlMetrics;

SlMetrics *sl_metrics_new(void);
void sl_metrics_free(SlMetrics *self);
void sl_metrics_request_started(SlMetrics *self, SoupServerMessage *msg);
void sl_metrics_request_finished(SlMetrics *self, SoupServerMessage *msg);
void sl_metrics_set_route(SoupServerMessage *msg, const char *route);
char *sl_metrics_render(SlMetrics *self, StdiolinkEngine *engine, SlSse *sse);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(SlMetrics, sl_metrics_free)

G_END_DECLS
