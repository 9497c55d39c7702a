#pragma once

#include <libsoup/soup.h>

#include "stdiolink.h"

G_BEGIN_DECLS

/* the HTTP plumbing every route shares: decoding, limits, access checks, answers */

#define SL_HTTP_BODY_LIMIT (1024 * 1024)

GHashTable *sl_http_parse_query(const char *raw_query);
gboolean sl_http_parse_int(const char *text, gint *value);
JsonObject *sl_http_parse_body(SoupServerMessage *msg, GError **error);

gboolean sl_http_check_host(const StdiolinkServerConfig *config,
			    gboolean loopback,
			    SoupServerMessage *msg,
			    GError **error);
gboolean sl_http_check_origin(const StdiolinkServerConfig *config,
			      SoupServerMessage *msg,
			      GError **error);
gboolean sl_http_check_token(const char *token, SoupServerMessage *msg, GError **error);
void sl_http_add_cors(const StdiolinkServerConfig *config, SoupServerMessage *msg);

guint sl_http_status_for_error(const GError *error);
void sl_http_send_json(SoupServerMessage *msg, guint status, JsonNode *body);
void sl_http_send_error(SoupServerMessage *msg, const GError *error);
void sl_http_send_error_fields(SoupServerMessage *msg, const GError *error, JsonObject *fields);
gboolean sl_http_prefers_async(SoupServerMessage *msg, GHashTable *query);
void sl_http_send_empty(SoupServerMessage *msg, guint status);

G_END_DECLS
