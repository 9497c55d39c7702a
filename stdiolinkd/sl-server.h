#pragma once

#include "sl-sse.h"
#include "stdiolink.h"

G_BEGIN_DECLS

#define SL_TYPE_SERVER (sl_server_get_type())
G_DECLARE_FINAL_TYPE(SlServer, sl_server, SL, SERVER, GObject)

SlServer *sl_server_new(StdiolinkEngine *engine);
gboolean sl_server_listen(SlServer *self, const char *host, guint port, GError **error);
gboolean sl_server_listen_socket(SlServer *self, GSocket *socket, GError **error);
guint sl_server_get_port(SlServer *self);
SlSse *sl_server_get_sse(SlServer *self);
const char *sl_server_get_last_request(SlServer *self);
void sl_server_set_token(SlServer *self, const char *token);
void sl_server_begin_close(SlServer *self);
void sl_server_close_async(SlServer *self, GAsyncReadyCallback callback, gpointer user_data);
gboolean sl_server_close_finish(SlServer *self, GAsyncResult *result, GError **error);

G_END_DECLS
