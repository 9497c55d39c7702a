#include "config.h"

#include <libsoup/soup.h>
#include <string.h>

#include "stdiolink-client.h"
#include "stdiolink-error.h"
#include "stdiolink-json.h"

/*
 * A thin asynchronous client for the daemon's HTTP API. It knows the error body shape
 * (`{"error": "<message>", "code": "<code>"}`) and turns it back into a STDIOLINK_ERROR, so
 * callers see the same domain and code the daemon's library saw.
 */

struct _StdiolinkClient {
	GObject parent_instance;

	char *base_url; /* without a trailing slash */
	SoupSession *session;
	char *token;	/* sent as a bearer token when set */
};

enum {
	PROP_0,
	PROP_BASE_URL,
	PROP_LAST
};

static GParamSpec *properties[PROP_LAST];

G_DEFINE_FINAL_TYPE(StdiolinkClient, stdiolink_client, G_TYPE_OBJECT)

static void
add_authorization(StdiolinkClient *self, SoupMessage *msg)
{
	g_autofree char *value = NULL;

	if (self->token == NULL)
		return;
	value = g_strconcat("Bearer ", self->token, NULL);
	soup_message_headers_replace(soup_message_get_request_headers(msg), "Authorization",
				     value);
}

/* what one exchange produced; the task returns this even for HTTP errors so that the raw
 * error body stays available to callers that print it */
typedef struct {
	guint status;
	char *reason;
	GBytes *body;
} StdiolinkClientResponse;

static void
stdiolink_client_response_free(StdiolinkClientResponse *response)
{
	g_free(response->reason);
	g_clear_pointer(&response->body, g_bytes_unref);
	g_free(response);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(StdiolinkClientResponse, stdiolink_client_response_free)

static gboolean
host_is_loopback(const char *host)
{
	g_autoptr(GInetAddress) address = NULL;

	if (host == NULL)
		return FALSE;
	if (g_ascii_strcasecmp(host, "localhost") == 0)
		return TRUE;
	address = g_inet_address_new_from_string(host);
	return address != NULL && g_inet_address_get_is_loopback(address);
}

static void
stdiolink_client_constructed(GObject *object)
{
	StdiolinkClient *self = STDIOLINK_CLIENT(object);
	g_autoptr(GUri) uri = NULL;

	G_OBJECT_CLASS(stdiolink_client_parent_class)->constructed(object);

	self->session = soup_session_new_with_options("user-agent",
						      "stdiolink/" PACKAGE_VERSION,
						      NULL);

	/* a proxy cannot reach our loopback address, and http_proxy in the environment must
	 * not send local control traffic elsewhere */
	uri = g_uri_parse(self->base_url, SOUP_HTTP_URI_FLAGS, NULL);
	if (uri != NULL && host_is_loopback(g_uri_get_host(uri)))
		soup_session_set_proxy_resolver(self->session, NULL);
}

static void
stdiolink_client_set_property(GObject *object,
			      guint prop_id,
			      const GValue *value,
			      GParamSpec *pspec)
{
	StdiolinkClient *self = STDIOLINK_CLIENT(object);

	switch (prop_id) {
	case PROP_BASE_URL: {
		const char *url = g_value_get_string(value);
		gsize len = url != NULL ? strlen(url) : 0;

		/* paths are appended as "/api/...", so one trailing slash would double up */
		while (len > 0 && url[len - 1] == '/')
			len--;
		g_free(self->base_url);
		self->base_url = g_strndup(url != NULL ? url : "", len);
		break;
	}
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
stdiolink_client_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	StdiolinkClient *self = STDIOLINK_CLIENT(object);

	switch (prop_id) {
	case PROP_BASE_URL:
		g_value_set_string(value, self->base_url);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
	}
}

static void
stdiolink_client_finalize(GObject *object)
{
	StdiolinkClient *self = STDIOLINK_CLIENT(object);

	g_free(self->base_url);
	g_free(self->token);
	g_clear_object(&self->session);

	G_OBJECT_CLASS(stdiolink_client_parent_class)->finalize(object);
}

static void
stdiolink_client_class_init(StdiolinkClientClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->constructed = stdiolink_client_constructed;
	object_class->set_property = stdiolink_client_set_property;
	object_class->get_property = stdiolink_client_get_property;
	object_class->finalize = stdiolink_client_finalize;

	/**
	 * StdiolinkClient:base-url:
	 *
	 * The daemon's address, e.g. `http://127.0.0.1:6200`; request paths are appended.
	 */
	properties[PROP_BASE_URL] = g_param_spec_string("base-url",
							NULL,
							NULL,
							NULL,
							G_PARAM_READWRITE |
							    G_PARAM_CONSTRUCT_ONLY |
							    G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties(object_class, PROP_LAST, properties);
}

static void
stdiolink_client_init(StdiolinkClient *self)
{
}

/**
 * stdiolink_client_new:
 * @base_url: the daemon's address, e.g. `http://127.0.0.1:6200`
 *
 * Creates a client for the daemon at @base_url. Nothing is contacted until the first
 * request; an unusable URL is reported by that request.
 *
 * Returns: (transfer full): a new #StdiolinkClient
 */
StdiolinkClient *
stdiolink_client_new(const char *base_url)
{
	g_return_val_if_fail(base_url != NULL, NULL);

	return g_object_new(STDIOLINK_TYPE_CLIENT, "base-url", base_url, NULL);
}

/**
 * stdiolink_client_get_base_url:
 * @self: a #StdiolinkClient
 *
 * Returns: the daemon's address without a trailing slash
 */
const char *
stdiolink_client_get_base_url(StdiolinkClient *self)
{
	g_return_val_if_fail(STDIOLINK_IS_CLIENT(self), NULL);

	return self->base_url;
}

/**
 * stdiolink_client_escape_segment:
 * @segment: an id or a query value
 *
 * Percent-encodes everything but the unreserved characters (RFC 3986), so that an id
 * containing `/`, `?`, `%`, `+` or a space stays one path segment or one query value.
 *
 * Returns: (transfer full): the escaped text
 */
char *
stdiolink_client_escape_segment(const char *segment)
{
	g_return_val_if_fail(segment != NULL, NULL);

	return g_uri_escape_string(segment, NULL, FALSE);
}

static GUri *
build_uri(StdiolinkClient *self, const char *path_and_query, GError **error)
{
	g_autofree char *url = g_strconcat(self->base_url, path_and_query, NULL);
	g_autoptr(GUri) uri = g_uri_parse(url, SOUP_HTTP_URI_FLAGS, NULL);
	const char *scheme;
	const char *host;

	/* libsoup only accepts http(s) URIs with a host; anything else is the caller's input */
	scheme = uri != NULL ? g_uri_get_scheme(uri) : NULL;
	host = uri != NULL ? g_uri_get_host(uri) : NULL;
	if (scheme == NULL || host == NULL || *host == '\0' ||
	    (g_ascii_strcasecmp(scheme, "http") != 0 && g_ascii_strcasecmp(scheme, "https") != 0)) {
		g_set_error(error,
			    STDIOLINK_ERROR,
			    STDIOLINK_ERROR_BAD_REQUEST,
			    "invalid URL: %s",
			    url);
		return NULL;
	}
	return g_steal_pointer(&uri);
}

static void
request_read_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	SoupMessage *msg = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) bytes = NULL;
	StdiolinkClientResponse *response;

	/* transport failures keep libsoup's own domain (G_IO_ERROR, G_RESOLVER_ERROR, ...) */
	bytes = soup_session_send_and_read_finish(SOUP_SESSION(source), res, &error);
	if (bytes == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}

	response = g_new0(StdiolinkClientResponse, 1);
	response->status = soup_message_get_status(msg);
	response->reason = g_strdup(soup_message_get_reason_phrase(msg));
	response->body = g_steal_pointer(&bytes);
	g_task_return_pointer(task, response, (GDestroyNotify)stdiolink_client_response_free);
}

/**
 * stdiolink_client_request_async:
 * @self: a #StdiolinkClient
 * @method: an HTTP method, e.g. `GET`
 * @path_and_query: the path below the base URL, starting with `/`, already escaped
 *   (see stdiolink_client_escape_segment())
 * @body: (nullable): a JSON body, sent compact as `application/json`
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the response has been read
 * @user_data: data for @callback
 *
 * Sends one request and reads the whole response. Finish with
 * stdiolink_client_request_finish().
 */
void
stdiolink_client_request_async(StdiolinkClient *self,
			       const char *method,
			       const char *path_and_query,
			       JsonNode *body,
			       GCancellable *cancellable,
			       GAsyncReadyCallback callback,
			       gpointer user_data)
{
	stdiolink_client_request_with_headers_async(self, method, path_and_query, NULL, body,
						    cancellable, callback, user_data);
}

/**
 * stdiolink_client_request_with_headers_async:
 * @self: a #StdiolinkClient
 * @method: an HTTP method, e.g. `POST`
 * @path_and_query: the path below the base URL, starting with `/`, already escaped
 * @headers: (nullable) (array zero-terminated=1): extra request headers as name, value,
 *   name, value, ..., %NULL, e.g. `{"Prefer", "respond-async", NULL}`
 * @body: (nullable): a JSON body, sent compact as `application/json`
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the response has been read
 * @user_data: data for @callback
 *
 * stdiolink_client_request_async() with headers of the caller's own, such as the RFC 7240
 * `Prefer: respond-async` that turns a scan into a job. They replace a header of the same
 * name the client would set. Finish with stdiolink_client_request_finish() or
 * stdiolink_client_request_finish_full().
 */
void
stdiolink_client_request_with_headers_async(StdiolinkClient *self,
					    const char *method,
					    const char *path_and_query,
					    const char *const *headers,
					    JsonNode *body,
					    GCancellable *cancellable,
					    GAsyncReadyCallback callback,
					    gpointer user_data)
{
	g_autoptr(GTask) task = NULL;
	g_autoptr(GUri) uri = NULL;
	g_autoptr(SoupMessage) msg = NULL;
	GError *error = NULL;

	g_return_if_fail(STDIOLINK_IS_CLIENT(self));
	g_return_if_fail(method != NULL);
	g_return_if_fail(path_and_query != NULL);
	g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));

	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, stdiolink_client_request_async);

	uri = build_uri(self, path_and_query, &error);
	if (uri == NULL) {
		g_task_return_error(task, error);
		return;
	}

	/* the message */
	msg = soup_message_new_from_uri(method, uri);
	soup_message_headers_replace(soup_message_get_request_headers(msg),
				     "Accept",
				     "application/json");
	add_authorization(self, msg);
	for (guint i = 0; headers != NULL && headers[i] != NULL && headers[i + 1] != NULL;
	     i += 2) {
		soup_message_headers_replace(soup_message_get_request_headers(msg), headers[i],
					     headers[i + 1]);
	}
	if (body != NULL) {
		char *text = stdiolink_json_to_string(body, STDIOLINK_JSON_COMPACT);
		g_autoptr(GBytes) bytes = g_bytes_new_take(text, strlen(text));

		soup_message_set_request_body_from_bytes(msg, "application/json", bytes);
	}
	g_task_set_task_data(task, g_object_ref(msg), g_object_unref);

	soup_session_send_and_read_async(self->session,
					 msg,
					 G_PRIORITY_DEFAULT,
					 cancellable,
					 request_read_cb,
					 g_steal_pointer(&task));
}

/* the error code a response without a `code` field stands for (e.g. an older server) */
static StdiolinkError
error_for_status(guint status)
{
	switch (status) {
	case SOUP_STATUS_BAD_REQUEST:
		return STDIOLINK_ERROR_BAD_REQUEST;
	case SOUP_STATUS_NOT_FOUND:
		return STDIOLINK_ERROR_NOT_FOUND;
	case SOUP_STATUS_CONFLICT:
		return STDIOLINK_ERROR_CONFLICT;
	case SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE:
		return STDIOLINK_ERROR_PAYLOAD_TOO_LARGE;
	case SOUP_STATUS_FORBIDDEN:
		return STDIOLINK_ERROR_FORBIDDEN;
	case SOUP_STATUS_MISDIRECTED_REQUEST:
		return STDIOLINK_ERROR_MISDIRECTED;
	case SOUP_STATUS_METHOD_NOT_ALLOWED:
		return STDIOLINK_ERROR_METHOD_NOT_ALLOWED;
	default:
		return STDIOLINK_ERROR_INTERNAL;
	}
}

static GError *
error_from_response(StdiolinkClientResponse *response)
{
	g_autoptr(JsonNode) node = NULL;
	const char *message = NULL;
	const char *code = NULL;
	gsize size = 0;
	const char *data = g_bytes_get_data(response->body, &size);
	StdiolinkError error_code = error_for_status(response->status);

	/* a body that is not our JSON (a proxy's HTML page) leaves the reason phrase */
	if (size > 0)
		node = stdiolink_json_parse(data, (gssize)size, NULL);
	if (node != NULL && JSON_NODE_HOLDS_OBJECT(node)) {
		JsonObject *object = json_node_get_object(node);

		message = stdiolink_json_object_get_string(object, "error");
		code = stdiolink_json_object_get_string(object, "code");
	}
	if (code != NULL)
		error_code = stdiolink_error_from_code(code);

	if (message != NULL && *message != '\0')
		return g_error_new_literal(STDIOLINK_ERROR, error_code, message);
	if (response->reason != NULL && *response->reason != '\0')
		return g_error_new_literal(STDIOLINK_ERROR, error_code, response->reason);
	return g_error_new(STDIOLINK_ERROR, error_code, "HTTP status %u", response->status);
}

static JsonNode *
node_from_response(StdiolinkClientResponse *response, GError **error)
{
	g_autoptr(GError) local_error = NULL;
	JsonNode *node;
	gsize size = 0;
	const char *data = g_bytes_get_data(response->body, &size);

	if (response->status >= 400) {
		g_propagate_error(error, error_from_response(response));
		return NULL;
	}

	/* 204 and other empty answers carry no document */
	if (size == 0)
		return NULL;

	node = stdiolink_json_parse(data, (gssize)size, &local_error);
	if (node == NULL) {
		g_set_error(error,
			    STDIOLINK_ERROR,
			    STDIOLINK_ERROR_INVALID_DATA,
			    "invalid response from server: %s",
			    local_error->message);
		return NULL;
	}
	return node;
}

/**
 * stdiolink_client_request_finish_full:
 * @self: a #StdiolinkClient
 * @res: the #GAsyncResult passed to the callback
 * @status: (out) (optional): the HTTP status, 0 if no response arrived
 * @raw_body: (out) (optional) (transfer full): the response body exactly as received,
 *   also for HTTP errors; %NULL if no response arrived
 * @error: return location for a #GError
 *
 * Like stdiolink_client_request_finish(), and also hands out the body bytes so that a
 * caller can print the server's JSON verbatim.
 *
 * Returns: (transfer full) (nullable): the parsed body, or %NULL
 */
JsonNode *
stdiolink_client_request_finish_full(StdiolinkClient *self,
				     GAsyncResult *res,
				     guint *status,
				     GBytes **raw_body,
				     GError **error)
{
	g_autoptr(StdiolinkClientResponse) response = NULL;

	g_return_val_if_fail(STDIOLINK_IS_CLIENT(self), NULL);
	g_return_val_if_fail(g_task_is_valid(res, self), NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (status != NULL)
		*status = 0;
	if (raw_body != NULL)
		*raw_body = NULL;

	response = g_task_propagate_pointer(G_TASK(res), error);
	if (response == NULL)
		return NULL;

	if (status != NULL)
		*status = response->status;
	if (raw_body != NULL)
		*raw_body = g_bytes_ref(response->body);
	return node_from_response(response, error);
}

/**
 * stdiolink_client_request_finish:
 * @self: a #StdiolinkClient
 * @res: the #GAsyncResult passed to the callback
 * @status: (out) (optional): the HTTP status, 0 if no response arrived
 * @error: return location for a #GError
 *
 * Finishes stdiolink_client_request_async(). A transport failure is reported as libsoup
 * reports it (usually %G_IO_ERROR). A status of 400 or more becomes a %STDIOLINK_ERROR
 * whose code comes from the body's `code` field and whose message is its `error` field
 * (the reason phrase if there is none). An empty body, as with 204, gives %NULL and no
 * error. A success body that is not JSON gives %STDIOLINK_ERROR_INVALID_DATA.
 *
 * Returns: (transfer full) (nullable): the parsed body, or %NULL
 */
JsonNode *
stdiolink_client_request_finish(StdiolinkClient *self,
				GAsyncResult *res,
				guint *status,
				GError **error)
{
	return stdiolink_client_request_finish_full(self, res, status, NULL, error);
}

/* ---- streaming responses ------------------------------------------------------------------ */

/* an error body is a short JSON object; more than this is not read */
#define STDIOLINK_CLIENT_MAX_ERROR_BODY (64 * 1024)

typedef struct {
	SoupMessage *msg;
	guint status;
	GInputStream *body;	 /* while an error body is read */
	GByteArray *error_body; /* idem */
} StdiolinkClientStream;

static void
stdiolink_client_stream_free(StdiolinkClientStream *stream)
{
	g_clear_object(&stream->msg);
	g_clear_object(&stream->body);
	g_clear_pointer(&stream->error_body, g_byte_array_unref);
	g_free(stream);
}

static void
return_error_body(GTask *task)
{
	StdiolinkClientStream *stream = g_task_get_task_data(task);
	StdiolinkClientResponse response = {0};

	response.status = stream->status;
	response.reason = (char *)soup_message_get_reason_phrase(stream->msg);
	response.body = g_byte_array_free_to_bytes(g_steal_pointer(&stream->error_body));
	g_task_return_error(task, error_from_response(&response));
	g_bytes_unref(response.body);
}

static void error_body_read_cb(GObject *source, GAsyncResult *res, gpointer user_data);

static void
read_error_body(GTask *task)
{
	StdiolinkClientStream *stream = g_task_get_task_data(task);
	GCancellable *cancellable = g_task_get_cancellable(task);

	g_input_stream_read_bytes_async(stream->body,
					STDIOLINK_CLIENT_MAX_ERROR_BODY,
					G_PRIORITY_DEFAULT,
					cancellable,
					error_body_read_cb,
					task);
}

static void
error_body_read_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	StdiolinkClientStream *stream = g_task_get_task_data(task);
	g_autoptr(GBytes) bytes = NULL;
	gsize size = 0;
	const guint8 *data;

	/* a broken error body still leaves the status and reason phrase to report */
	bytes = g_input_stream_read_bytes_finish(G_INPUT_STREAM(source), res, NULL);
	data = bytes != NULL ? g_bytes_get_data(bytes, &size) : NULL;
	if (size == 0 || stream->error_body->len + size > STDIOLINK_CLIENT_MAX_ERROR_BODY) {
		return_error_body(task);
		return;
	}

	g_byte_array_append(stream->error_body, data, (guint)size);
	read_error_body(g_steal_pointer(&task));
}

static void
stream_sent_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	StdiolinkClientStream *stream = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;
	g_autoptr(GInputStream) body = NULL;

	body = soup_session_send_finish(SOUP_SESSION(source), res, &error);
	if (body == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}

	stream->status = soup_message_get_status(stream->msg);
	if (stream->status < 400) {
		g_task_return_pointer(task, g_steal_pointer(&body), g_object_unref);
		return;
	}

	/* the daemon said no: its error body is small, read it to report its message */
	stream->body = g_steal_pointer(&body);
	stream->error_body = g_byte_array_new();
	read_error_body(g_steal_pointer(&task));
}

/**
 * stdiolink_client_open_stream_async:
 * @self: a #StdiolinkClient
 * @path_and_query: the path below the base URL, already escaped
 * @accept: (nullable): the `Accept` header, e.g. `text/event-stream`
 * @cancellable: (nullable): a #GCancellable; cancelling it also ends the stream
 * @callback: called once the response headers have arrived
 * @user_data: data for @callback
 *
 * Sends a GET whose response body is read as it arrives, for answers that do not end (the
 * event stream). Finish with stdiolink_client_open_stream_finish().
 */
void
stdiolink_client_open_stream_async(StdiolinkClient *self,
				   const char *path_and_query,
				   const char *accept,
				   GCancellable *cancellable,
				   GAsyncReadyCallback callback,
				   gpointer user_data)
{
	g_autoptr(GTask) task = NULL;
	g_autoptr(GUri) uri = NULL;
	StdiolinkClientStream *stream;
	GError *error = NULL;

	g_return_if_fail(STDIOLINK_IS_CLIENT(self));
	g_return_if_fail(path_and_query != NULL);
	g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));

	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, stdiolink_client_open_stream_async);

	uri = build_uri(self, path_and_query, &error);
	if (uri == NULL) {
		g_task_return_error(task, error);
		return;
	}

	stream = g_new0(StdiolinkClientStream, 1);
	stream->msg = soup_message_new_from_uri("GET", uri);
	add_authorization(self, stream->msg);
	if (accept != NULL) {
		soup_message_headers_replace(soup_message_get_request_headers(stream->msg),
					     "Accept",
					     accept);
	}
	g_task_set_task_data(task, stream, (GDestroyNotify)stdiolink_client_stream_free);

	soup_session_send_async(self->session,
				stream->msg,
				G_PRIORITY_DEFAULT,
				cancellable,
				stream_sent_cb,
				g_steal_pointer(&task));
}

/**
 * stdiolink_client_open_stream_finish:
 * @self: a #StdiolinkClient
 * @res: the #GAsyncResult passed to the callback
 * @status: (out) (optional): the HTTP status, 0 if no response arrived
 * @error: return location for a #GError
 *
 * Finishes stdiolink_client_open_stream_async(). Errors are reported as
 * stdiolink_client_request_finish() reports them: a transport failure in libsoup's domain,
 * a status of 400 or more as a %STDIOLINK_ERROR decoded from the error body.
 *
 * Returns: (transfer full) (nullable): the response body, to be read until it ends
 */
GInputStream *
stdiolink_client_open_stream_finish(StdiolinkClient *self,
				    GAsyncResult *res,
				    guint *status,
				    GError **error)
{
	StdiolinkClientStream *stream;

	g_return_val_if_fail(STDIOLINK_IS_CLIENT(self), NULL);
	g_return_val_if_fail(g_task_is_valid(res, self), NULL);

	stream = g_task_get_task_data(G_TASK(res));
	if (status != NULL)
		*status = stream != NULL ? stream->status : 0;
	return g_task_propagate_pointer(G_TASK(res), error);
}

/* ---- server-sent events ------------------------------------------------------------------- */

struct _StdiolinkSseParser {
	GString *type; /* the `event:` field of the event being read; empty: none yet */
	GString *data; /* its `data:` lines, each followed by a newline */
	gboolean have_data;
};

/**
 * stdiolink_sse_parser_new: (skip)
 *
 * Returns: (transfer full): a parser at the start of a stream
 */
StdiolinkSseParser *
stdiolink_sse_parser_new(void)
{
	StdiolinkSseParser *parser = g_new0(StdiolinkSseParser, 1);

	parser->type = g_string_new(NULL);
	parser->data = g_string_new(NULL);
	return parser;
}

/**
 * stdiolink_sse_parser_free:
 * @parser: (nullable): a parser
 */
void
stdiolink_sse_parser_free(StdiolinkSseParser *parser)
{
	if (parser == NULL)
		return;
	g_string_free(parser->type, TRUE);
	g_string_free(parser->data, TRUE);
	g_free(parser);
}

static void
sse_parser_reset(StdiolinkSseParser *parser)
{
	g_string_truncate(parser->type, 0);
	g_string_truncate(parser->data, 0);
	parser->have_data = FALSE;
}

static void
sse_parser_field(StdiolinkSseParser *parser, const char *name, const char *value)
{
	if (g_str_equal(name, "event")) {
		g_string_assign(parser->type, value);
	} else if (g_str_equal(name, "data")) {
		g_string_append(parser->data, value);
		g_string_append_c(parser->data, '\n');
		parser->have_data = TRUE;
	}
	/* `id`, `retry` and unknown fields mean nothing to us */
}

/**
 * stdiolink_sse_parser_push_line:
 * @parser: a parser
 * @line: one line of the stream without its line break (a trailing `\r` is dropped)
 * @type: (out) (transfer full) (optional): the event type when one is complete; `message`
 *   if the stream named none
 * @data: (out) (transfer full) (optional): its data, the `data:` lines joined with `\n`
 *
 * Follows the HTML event-stream rules: a blank line ends an event, a line starting with
 * `:` is a comment (the daemon's heartbeat), `field: value` loses one space after the
 * colon, and an event without data is not dispatched.
 *
 * Returns: %TRUE if @line completed an event
 */
gboolean
stdiolink_sse_parser_push_line(StdiolinkSseParser *parser,
			       const char *line,
			       char **type,
			       char **data)
{
	g_autofree char *copy = NULL;
	gsize len;
	char *colon;
	const char *value = "";

	g_return_val_if_fail(parser != NULL, FALSE);
	g_return_val_if_fail(line != NULL, FALSE);

	len = strlen(line);
	if (len > 0 && line[len - 1] == '\r')
		len--;

	/* a blank line dispatches what was collected */
	if (len == 0) {
		gboolean complete = parser->have_data;

		if (complete) {
			g_string_truncate(parser->data, parser->data->len - 1);
			if (type != NULL)
				*type = g_strdup(parser->type->len > 0 ? parser->type->str
								       : "message");
			if (data != NULL)
				*data = g_strdup(parser->data->str);
		}
		sse_parser_reset(parser);
		return complete;
	}
	if (line[0] == ':')
		return FALSE;

	copy = g_strndup(line, len);
	colon = strchr(copy, ':');
	if (colon != NULL) {
		*colon = '\0';
		value = colon[1] == ' ' ? colon + 2 : colon + 1;
	}
	sse_parser_field(parser, copy, value);
	return FALSE;
}

/**
 * stdiolink_client_get_token:
 * @self: a client
 *
 * Returns: (nullable): the API token the client sends, if any
 */
const char *
stdiolink_client_get_token(StdiolinkClient *self)
{
	g_return_val_if_fail(STDIOLINK_IS_CLIENT(self), NULL);

	return self->token;
}

/**
 * stdiolink_client_set_token:
 * @self: a client
 * @token: (nullable): the daemon's API token, or %NULL to send none
 *
 * Every request and stream then carries `Authorization: Bearer <token>`.
 */
void
stdiolink_client_set_token(StdiolinkClient *self, const char *token)
{
	g_return_if_fail(STDIOLINK_IS_CLIENT(self));

	g_free(self->token);
	self->token = token != NULL && *token != '\0' ? g_strdup(token) : NULL;
}
