#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define STDIOLINK_TYPE_CLIENT (stdiolink_client_get_type())
G_DECLARE_FINAL_TYPE(StdiolinkClient, stdiolink_client, STDIOLINK, CLIENT, GObject)

StdiolinkClient *stdiolink_client_new(const char *base_url);
void stdiolink_client_set_token(StdiolinkClient *self, const char *token);
const char *stdiolink_client_get_token(StdiolinkClient *self);
const char *stdiolink_client_get_base_url(StdiolinkClient *self);

void stdiolink_client_request_async(StdiolinkClient *self,
				    const char *method,
				    const char *path_and_query,
				    JsonNode *body,
				    GCancellable *cancellable,
				    GAsyncReadyCallback callback,
				    gpointer user_data);
void stdiolink_client_request_with_headers_async(StdiolinkClient *self,
						 const char *method,
						 const char *path_and_query,
						 const char *const *headers,
						 JsonNode *body,
						 GCancellable *cancellable,
						 GAsyncReadyCallback callback,
						 gpointer user_data);
JsonNode *stdiolink_client_request_finish(StdiolinkClient *self,
					  GAsyncResult *res,
					  guint *status,
					  GError **error);
JsonNode *stdiolink_client_request_finish_full(StdiolinkClient *self,
					       GAsyncResult *res,
					       guint *status,
					       GBytes **raw_body,
					       GError **error);

void stdiolink_client_open_stream_async(StdiolinkClient *self,
					const char *path_and_query,
					const char *accept,
					GCancellable *cancellable,
					GAsyncReadyCallback callback,
					gpointer user_data);
GInputStream *stdiolink_client_open_stream_finish(StdiolinkClient *self,
						  GAsyncResult *res,
						  guint *status,
						  GError **error);

char *stdiolink_client_escape_segment(const char *segment);

/**
 * StdiolinkSseParser:
 *
 * Turns the lines of a `text/event-stream` body into events, one line at a time.
 */
typedef struct _StdiolinkSseParser StdiolinkSseParser;

StdiolinkSseParser *stdiolink_sse_parser_new(void);
void stdiolink_sse_parser_free(StdiolinkSseParser *parser);
gboolean stdiolink_sse_parser_push_line(StdiolinkSseParser *parser,
					const char *line,
					char **type,
					char **data);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(StdiolinkSseParser, stdiolink_sse_parser_free)

G_END_DECLS
