#pragma once

#include "stdiolink-engine.h"

G_BEGIN_DECLS

/* looking at what runs: log tails and process trees (http-api.md 5.13, 6.4-6.6) */

#define STDIOLINK_LOG_LINES_DEFAULT 100
#define STDIOLINK_LOG_LINES_MAX	    5000

void stdiolink_engine_read_project_log_async(StdiolinkEngine *self,
					     const char *id,
					     gint lines,
					     GCancellable *cancellable,
					     GAsyncReadyCallback callback,
					     gpointer user_data);
void stdiolink_engine_read_instance_log_async(StdiolinkEngine *self,
					      const char *id,
					      gint lines,
					      GCancellable *cancellable,
					      GAsyncReadyCallback callback,
					      gpointer user_data);
void stdiolink_engine_get_process_tree_async(StdiolinkEngine *self,
					     const char *id,
					     GCancellable *cancellable,
					     GAsyncReadyCallback callback,
					     gpointer user_data);
void stdiolink_engine_get_resources_async(StdiolinkEngine *self,
					  const char *id,
					  gboolean include_children,
					  GCancellable *cancellable,
					  GAsyncReadyCallback callback,
					  gpointer user_data);
JsonNode *stdiolink_engine_observe_finish(StdiolinkEngine *self,
					  GAsyncResult *res,
					  GError **error);

G_END_DECLS
