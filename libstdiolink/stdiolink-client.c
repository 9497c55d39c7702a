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
};

enum {
	PROP_0,
	PROP_BASE_URL,
	PROP_LAST
};

static GParamSpec *properties[PROP_LAST];

G_DEFINE_FINAL_TYPE(StdiolinkClient, stdiolink_client, G_TYPE_OBJECT)

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
