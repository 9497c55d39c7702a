#include "config.h"

#include <string.h>

#include "sl-http.h"

/**
 * sl_http_parse_query:
 * @raw_query: (nullable): the query as it came on the wire
 *
 * Decodes every value fully, `+` as a space (the web console sends spaces that way), and
 * keeps the first of repeated names, as the earlier server did.
 *
 * Returns: (transfer full): name -> value
 */
GHashTable *
sl_http_parse_query(const char *raw_query)
{
	GHashTable *query = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_auto(GStrv) pairs = NULL;

	if (raw_query == NULL)
		return query;
	pairs = g_strsplit(raw_query, "&", -1);
	for (guint i = 0; pairs[i] != NULL; i++) {
		char *eq = strchr(pairs[i], '=');
		g_autofree char *raw_name = NULL;
		g_autofree char *raw_value = NULL;
		char *name;
		char *value;

		if (*pairs[i] == '\0')
			continue;
		gsize name_len = eq != NULL ? (gsize)(eq - pairs[i]) : strlen(pairs[i]);

		raw_name = g_strndup(pairs[i], name_len);
		raw_value = g_strdup(eq != NULL ? eq + 1 : "");
		g_strdelimit(raw_name, "+", ' ');
		g_strdelimit(raw_value, "+", ' ');

		/* a broken or NUL escape leaves no value rather than a wrong one */
		name = g_uri_unescape_string(raw_name, NULL);
		value = g_uri_unescape_string(raw_value, NULL);
		if (name == NULL || value == NULL || g_hash_table_contains(query, name)) {
			g_free(name);
			g_free(value);
			continue;
		}
		g_hash_table_insert(query, name, value);
	}
	return query;
}

/**
 * sl_http_parse_int:
 * @text: (nullable): a query value
 * @value: (out): the integer
 *
 * Accepts optional surrounding white space, an optional sign and decimal digits within
 * 32 bits (`+7`, ` 7`, `07`); refuses `2.5`, `1e2`, `0x10`, `7x` and the empty string.
 *
 * Returns: %TRUE if @text is such an integer
 */
gboolean
sl_http_parse_int(const char *text, gint *value)
{
	g_autofree char *trimmed = NULL;
	const char *p;
	gint64 result = 0;
	gboolean negative = FALSE;

	if (text == NULL)
		return FALSE;
	trimmed = g_strstrip(g_strdup(text));
	p = trimmed;
	if (*p == '+' || *p == '-')
		negative = *p++ == '-';
	if (*p == '\0')
		return FALSE;
	for (; *p != '\0'; p++) {
		if (!g_ascii_isdigit(*p))
			return FALSE;
		result = result * 10 + (*p - '0');
		if (result > (gint64)G_MAXINT32 + 1)
			return FALSE;
	}
	if (negative)
		result = -result;
	if (result < G_MININT32 || result > G_MAXINT32)
		return FALSE;
	*value = (gint)result;
	return TRUE;
}

static gboolean
is_blank(const char *data, gsize length)
{
	for (gsize i = 0; i < length; i++) {
		if (!g_ascii_isspace(data[i]))
			return FALSE;
	}
	return TRUE;
}

/**
 * sl_http_parse_body:
 * @msg: the request
 * @error: return location for a #GError
 *
 * An empty or blank body counts as `{}`; anything but a JSON object is refused.
 *
 * Returns: (transfer full): the body object, or %NULL with @error set
 */
JsonObject *
sl_http_parse_body(SoupServerMessage *msg, GError **error)
{
	SoupMessageBody *body = soup_server_message_get_request_body(msg);
	g_autoptr(GBytes) bytes = soup_message_body_flatten(body);
	gsize length = 0;
	const char *data = g_bytes_get_data(bytes, &length);
	g_autoptr(JsonNode) node = NULL;

	if (length > SL_HTTP_BODY_LIMIT) {
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_PAYLOAD_TOO_LARGE,
				    "request body too large (limit 1MB)");
		return NULL;
	}
	if (data == NULL || is_blank(data, length))
		return json_object_new();
	node = stdiolink_json_parse(data, (gssize)length, NULL);
	if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node)) {
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
				    "request body must be a JSON object");
		return NULL;
	}
	return json_object_ref(json_node_get_object(node));
}

/* "host", "host:port", "[::1]:port" -> the host part, lower-case */
static char *
host_without_port(const char *value)
{
	const char *colon;

	if (value[0] == '[') {
		const char *end = strchr(value, ']');

		return g_ascii_strdown(value + 1, end != NULL ? end - value - 1 : -1);
	}
	colon = strrchr(value, ':');
	if (colon != NULL && strchr(value, ':') == colon)
		return g_ascii_strdown(value, colon - value);
	return g_ascii_strdown(value, -1);
}

static gboolean
is_loopback_name(const char *host)
{
	g_autoptr(GInetAddress) address = NULL;

	if (g_str_equal(host, "localhost") || g_str_has_suffix(host, ".localhost"))
		return TRUE;
	address = g_inet_address_new_from_string(host);
	return address != NULL && g_inet_address_get_is_loopback(address);
}

static gboolean
is_allowed_host(const StdiolinkServerConfig *config, const char *value, const char *host)
{
	for (guint i = 0; config->allowed_hosts != NULL && config->allowed_hosts[i] != NULL; i++) {
		if (g_ascii_strcasecmp(config->allowed_hosts[i], value) == 0 ||
		    g_ascii_strcasecmp(config->allowed_hosts[i], host) == 0)
			return TRUE;
	}
	return FALSE;
}

/**
 * sl_http_check_host:
 * @config: the server configuration
 * @loopback: whether the daemon listens on a loopback address
 * @msg: the request
 * @error: return location for a #GError
 *
 * A daemon on loopback only answers requests addressed to a loopback name, or to a host
 * listed in `allowedHosts`: a page served by a rebinding DNS name reaches 127.0.0.1 with
 * its own name in Host, and is refused here.
 *
 * Returns: %TRUE if the request may go on
 */
gboolean
sl_http_check_host(const StdiolinkServerConfig *config,
		   gboolean loopback,
		   SoupServerMessage *msg,
		   GError **error)
{
	SoupMessageHeaders *headers = soup_server_message_get_request_headers(msg);
	const char *value = soup_message_headers_get_one(headers, "Host");
	const char *all = soup_message_headers_get_list(headers, "Host");
	g_autofree char *host = NULL;

	/* libsoup joins repeated headers with ", "; two Hosts are a malformed request */
	if (all != NULL && strchr(all, ',') != NULL) {
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
				    "more than one Host header");
		return FALSE;
	}
	if (!loopback || value == NULL)
		return TRUE;
	host = host_without_port(value);
	if (is_loopback_name(host) || is_allowed_host(config, value, host))
		return TRUE;
	g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_MISDIRECTED,
		    "host not allowed: %s", value);
	return FALSE;
}

/**
 * sl_http_check_origin:
 * @config: the server configuration
 * @msg: the request
 * @error: return location for a #GError
 *
 * The daemon starts processes, so a page from another origin must not drive it. Requests
 * without Origin (curl, the CLI) and same-origin requests pass; others only when
 * `corsOrigin` allows them.
 *
 * Returns: %TRUE if the request may go on
 */
gboolean
sl_http_check_origin(const StdiolinkServerConfig *config, SoupServerMessage *msg, GError **error)
{
	SoupMessageHeaders *headers = soup_server_message_get_request_headers(msg);
	const char *origin = soup_message_headers_get_one(headers, "Origin");
	const char *host = soup_message_headers_get_one(headers, "Host");
	g_autofree char *own = NULL;

	if (origin == NULL)
		return TRUE;
	if (config->cors_origin != NULL && *config->cors_origin != '\0' &&
	    (g_str_equal(config->cors_origin, "*") || g_str_equal(config->cors_origin, origin)))
		return TRUE;
	own = host != NULL ? g_strconcat("http://", host, NULL) : NULL;
	if (own != NULL && g_ascii_strcasecmp(own, origin) == 0)
		return TRUE;
	g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_FORBIDDEN,
		    "origin not allowed: %s", origin);
	return FALSE;
}

/* equal strings, in a time that does not depend on where they differ */
static gboolean
tokens_equal(const char *given, const char *expected)
{
	gsize given_len = strlen(given);
	gsize expected_len = strlen(expected);
	guchar diff = given_len != expected_len;

	for (gsize i = 0; i < expected_len; i++)
		diff |= (guchar)expected[i] ^ (guchar)(i < given_len ? given[i] : 0);
	return diff == 0;
}

/**
 * sl_http_check_token:
 * @token: (nullable): the token the daemon requires, or %NULL when it requires none
 * @msg: the request
 * @error: return location for a #GError
 *
 * Accepts `Authorization: Bearer <token>`, or `access_token=<token>` in the query for
 * clients that cannot set headers (EventSource, WebSocket in a browser).
 *
 * Returns: %TRUE if the request may go on
 */
gboolean
sl_http_check_token(const char *token, SoupServerMessage *msg, GError **error)
{
	SoupMessageHeaders *headers = soup_server_message_get_request_headers(msg);
	const char *authorization = soup_message_headers_get_one(headers, "Authorization");
	g_autoptr(GHashTable) query = NULL;
	const char *given = NULL;

	if (token == NULL)
		return TRUE;
	if (authorization != NULL && g_ascii_strncasecmp(authorization, "Bearer ", 7) == 0) {
		given = authorization + 7;
	} else {
		query = sl_http_parse_query(g_uri_get_query(soup_server_message_get_uri(msg)));
		given = g_hash_table_lookup(query, "access_token");
	}
	if (given != NULL && tokens_equal(given, token))
		return TRUE;
	g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_UNAUTHORIZED,
			    given == NULL ? "an API token is required" : "invalid API token");
	return FALSE;
}

/**
 * sl_http_add_cors:
 * @config: the server configuration
 * @msg: the response to decorate
 *
 * Same-origin by default: the headers are only sent when `corsOrigin` is configured.
 */
void
sl_http_add_cors(const StdiolinkServerConfig *config, SoupServerMessage *msg)
{
	SoupMessageHeaders *headers = soup_server_message_get_response_headers(msg);

	if (config->cors_origin == NULL || *config->cors_origin == '\0')
		return;
	soup_message_headers_replace(headers, "Access-Control-Allow-Origin", config->cors_origin);
	soup_message_headers_replace(headers, "Access-Control-Allow-Methods",
				     "GET, POST, PUT, PATCH, DELETE, OPTIONS");
	soup_message_headers_replace(headers, "Access-Control-Allow-Headers",
				     "Content-Type, Accept, Authorization, Origin");
	soup_message_headers_replace(headers, "Access-Control-Max-Age", "86400");
}

/* one table from error code to HTTP status; the library never knows about HTTP */
static const guint error_statuses[] = {
	[STDIOLINK_ERROR_INTERNAL] = SOUP_STATUS_INTERNAL_SERVER_ERROR,
	[STDIOLINK_ERROR_BAD_REQUEST] = SOUP_STATUS_BAD_REQUEST,
	[STDIOLINK_ERROR_NOT_FOUND] = SOUP_STATUS_NOT_FOUND,
	[STDIOLINK_ERROR_CONFLICT] = SOUP_STATUS_CONFLICT,
	[STDIOLINK_ERROR_PAYLOAD_TOO_LARGE] = SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE,
	[STDIOLINK_ERROR_PROJECT_BUSY] = SOUP_STATUS_CONFLICT,
	[STDIOLINK_ERROR_JOB_CONFLICT] = SOUP_STATUS_CONFLICT,
	[STDIOLINK_ERROR_START_TIMEOUT] = SOUP_STATUS_INTERNAL_SERVER_ERROR,
	[STDIOLINK_ERROR_START_FAILED] = SOUP_STATUS_INTERNAL_SERVER_ERROR,
	[STDIOLINK_ERROR_TERMINATE_TIMEOUT] = SOUP_STATUS_CONFLICT,
	[STDIOLINK_ERROR_SCAN_TIMEOUT] = SOUP_STATUS_INTERNAL_SERVER_ERROR,
	[STDIOLINK_ERROR_INVALID_DATA] = SOUP_STATUS_BAD_REQUEST,
	[STDIOLINK_ERROR_FORBIDDEN] = SOUP_STATUS_FORBIDDEN,
	[STDIOLINK_ERROR_MISDIRECTED] = SOUP_STATUS_MISDIRECTED_REQUEST,
	[STDIOLINK_ERROR_METHOD_NOT_ALLOWED] = SOUP_STATUS_METHOD_NOT_ALLOWED,
	[STDIOLINK_ERROR_UNAUTHORIZED] = SOUP_STATUS_UNAUTHORIZED,
	[STDIOLINK_ERROR_UNAVAILABLE] = SOUP_STATUS_SERVICE_UNAVAILABLE,
};

G_STATIC_ASSERT(G_N_ELEMENTS(error_statuses) == STDIOLINK_ERROR_LAST);

/**
 * sl_http_status_for_error:
 * @error: a failure from the library
 *
 * Returns: the HTTP status that answers it
 */
guint
sl_http_status_for_error(const GError *error)
{
	if (error->domain != STDIOLINK_ERROR || (guint)error->code >= STDIOLINK_ERROR_LAST)
		return SOUP_STATUS_INTERNAL_SERVER_ERROR;
	return error_statuses[error->code];
}

/**
 * sl_http_send_json:
 * @msg: the request
 * @status: the HTTP status
 * @body: (transfer none): the body
 */
void
sl_http_send_json(SoupServerMessage *msg, guint status, JsonNode *body)
{
	char *text = stdiolink_json_to_string(body, STDIOLINK_JSON_COMPACT);

	/* libsoup 3.2 has no reason phrase for 421 and would send "Unknown Error" */
	soup_server_message_set_status(msg, status,
				       status == SOUP_STATUS_MISDIRECTED_REQUEST
					   ? "Misdirected Request"
					   : NULL);
	soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_TAKE, text,
					 strlen(text));
}

/**
 * sl_http_send_error_fields:
 * @msg: the request
 * @error: the failure; its code gives the status and the `code` field
 * @fields: (nullable): more members of the body, e.g. the `jobId` of a conflict
 *
 * Answers `{"error": <message>, "code": <code>, ...@fields}`.
 */
void
sl_http_send_error_fields(SoupServerMessage *msg, const GError *error, JsonObject *fields)
{
	g_autoptr(JsonObject) body = fields != NULL ? json_object_ref(fields) : json_object_new();
	g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);
	const char *code = error->domain == STDIOLINK_ERROR ? stdiolink_error_to_code(error->code)
							    : "internal";

	json_object_set_string_member(body, "error", error->message);
	json_object_set_string_member(body, "code", code);
	json_node_set_object(node, body);
	sl_http_send_json(msg, sl_http_status_for_error(error), node);
}

/**
 * sl_http_send_error:
 * @msg: the request
 * @error: the failure
 *
 * Answers `{"error": <message>, "code": <code>}` with the status of the code.
 */
void
sl_http_send_error(SoupServerMessage *msg, const GError *error)
{
	sl_http_send_error_fields(msg, error, NULL);
}

/**
 * sl_http_prefers_async:
 * @msg: the request
 * @query: its decoded query
 *
 * Returns: whether the client asked for `202 Accepted` instead of a held answer, with
 *   `Prefer: respond-async` (RFC 7240) or `?async=true`
 */
gboolean
sl_http_prefers_async(SoupServerMessage *msg, GHashTable *query)
{
	SoupMessageHeaders *headers = soup_server_message_get_request_headers(msg);
	const char *prefer = soup_message_headers_get_list(headers, "Prefer");
	const char *flag = g_hash_table_lookup(query, "async");
	g_auto(GStrv) preferences = NULL;

	if (g_strcmp0(flag, "true") == 0 || g_strcmp0(flag, "1") == 0)
		return TRUE;
	if (prefer == NULL)
		return FALSE;

	/* a comma list of preferences, each possibly with `;` parameters */
	preferences = g_strsplit(prefer, ",", -1);
	for (guint i = 0; preferences[i] != NULL; i++) {
		char *end = strchr(preferences[i], ';');

		if (end != NULL)
			*end = '\0';
		if (g_ascii_strcasecmp(g_strstrip(preferences[i]), "respond-async") == 0)
			return TRUE;
	}
	return FALSE;
}

/**
 * sl_http_send_empty:
 * @msg: the request
 * @status: a status without a body, such as 204
 */
void
sl_http_send_empty(SoupServerMessage *msg, guint status)
{
	soup_server_message_set_status(msg, status, NULL);
	soup_server_message_set_response(msg, NULL, SOUP_MEMORY_STATIC, NULL, 0);
}
