#include "config.h"

#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#include "sl-static.h"

#define STATIC_FILE_LIMIT (10 * 1024 * 1024)
#define NOT_FOUND_BODY	  "{\"code\":\"not_found\",\"error\":\"not found\"}"

struct _SlStatic {
	char *root;	 /* canonical folder, or NULL when serving is off */
};

/**
 * sl_static_new:
 * @data_root: the data root
 * @webui_dir: the configured folder: empty for `<data root>/webui`, relative to the data
 *   root, or absolute
 *
 * Serving is decided once, here: on only if the folder has an `index.html`.
 *
 * Returns: (transfer full): the console server
 */
SlStatic *
sl_static_new(const char *data_root, const char *webui_dir)
{
	SlStatic *self = g_new0(SlStatic, 1);
	g_autofree char *dir = NULL;
	g_autofree char *index = NULL;

	if (webui_dir == NULL || *webui_dir == '\0')
		dir = g_build_filename(data_root, "webui", NULL);
	else if (g_path_is_absolute(webui_dir))
		dir = g_strdup(webui_dir);
	else
		dir = g_build_filename(data_root, webui_dir, NULL);

	index = g_build_filename(dir, "index.html", NULL);
	if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
		g_message("web console: folder not found, not serving: %s", dir);
	} else if (!g_file_test(index, G_FILE_TEST_IS_REGULAR)) {
		g_message("web console: no index.html, not serving: %s", dir);
	} else {
		self->root = g_canonicalize_filename(dir, NULL);
		g_message("web console: serving %s", self->root);
	}
	return self;
}

void
sl_static_free(SlStatic *self)
{
	g_free(self->root);
	g_free(self);
}

gboolean
sl_static_is_enabled(SlStatic *self)
{
	return self->root != NULL;
}

static const char *
content_type_for(const char *path)
{
	static const char *const types[][2] = {
	    {".html", "text/html; charset=utf-8"},
	    {".js", "application/javascript; charset=utf-8"},
	    {".css", "text/css; charset=utf-8"},
	    {".json", "application/json; charset=utf-8"},
	    {".png", "image/png"},
	    {".jpg", "image/jpeg"},
	    {".jpeg", "image/jpeg"},
	    {".gif", "image/gif"},
	    {".svg", "image/svg+xml"},
	    {".ico", "image/x-icon"},
	    {".woff", "font/woff"},
	    {".woff2", "font/woff2"},
	    {".ttf", "font/ttf"},
	    {".map", "application/json"},
	};
	g_autofree char *lower = g_ascii_strdown(path, -1);

	for (guint i = 0; i < G_N_ELEMENTS(types); i++) {
		if (g_str_has_suffix(lower, types[i][0]))
			return types[i][1];
	}
	return "application/octet-stream";
}

static const char *
cache_control_for(const char *path)
{
	g_autofree char *base = g_path_get_basename(path);

	/* the entry point changes with every release; hashed assets never do */
	if (g_str_equal(base, "index.html"))
		return "no-cache, no-store, must-revalidate";
	if (strstr(path, "/assets/") != NULL)
		return "public, max-age=31536000, immutable";
	return "public, max-age=3600";
}

/*
 * The file under the console folder for @decoded_path, or NULL. Refused: any `..`, a path
 * that leaves the folder once normalized, a final symlink, anything but a regular file of
 * at most 10 MiB. These are a few stat calls on a local disk; the read itself is async.
 */
static char *
resolve_file(SlStatic *self, const char *decoded_path)
{
	g_autofree char *joined = NULL;
	g_autofree char *canonical = NULL;
	g_autofree char *prefix = g_strconcat(self->root, G_DIR_SEPARATOR_S, NULL);
	GStatBuf st;

	if (strstr(decoded_path, "..") != NULL || strchr(decoded_path, '\\') != NULL)
		return NULL;
	joined = g_build_filename(self->root, decoded_path, NULL);
	canonical = g_canonicalize_filename(joined, NULL);
	if (!g_str_has_prefix(canonical, prefix))
		return NULL;
	if (g_lstat(canonical, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > STATIC_FILE_LIMIT)
		return NULL;
	return g_steal_pointer(&canonical);
}

typedef struct {
	SoupServerMessage *msg;
	char *path;
} StaticRead;

static void
file_loaded_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	StaticRead *read = user_data;
	SoupMessageHeaders *headers = soup_server_message_get_response_headers(read->msg);
	g_autoptr(GError) error = NULL;
	char *contents = NULL;
	gsize length = 0;

	if (!g_file_load_contents_finish(G_FILE(source), res, &contents, &length, NULL, &error)) {
		soup_server_message_set_status(read->msg, SOUP_STATUS_NOT_FOUND, NULL);
		soup_server_message_set_response(read->msg, "application/json",
						 SOUP_MEMORY_STATIC, NOT_FOUND_BODY,
						 strlen(NOT_FOUND_BODY));
	} else {
		const char *cache = cache_control_for(read->path);

		soup_message_headers_replace(headers, "Cache-Control", cache);
		soup_server_message_set_status(read->msg, SOUP_STATUS_OK, NULL);
		soup_server_message_set_response(read->msg, content_type_for(read->path),
						 SOUP_MEMORY_TAKE, contents, length);
	}
	soup_server_message_unpause(read->msg);
	g_object_unref(read->msg);
	g_free(read->path);
	g_free(read);
}

static void
serve_file(SoupServerMessage *msg, const char *path)
{
	g_autoptr(GFile) file = g_file_new_for_path(path);
	StaticRead *read = g_new0(StaticRead, 1);

	read->msg = g_object_ref(msg);
	read->path = g_strdup(path);
	soup_server_message_pause(msg);
	g_file_load_contents_async(file, NULL, file_loaded_cb, read);
}

/**
 * sl_static_handle:
 * @self: the console server
 * @msg: a request no API route took
 * @decoded_path: its decoded path
 *
 * Serves GET and HEAD outside `/api`: the file if there is one, else `index.html` for a
 * path whose last segment has no dot (a route of the single-page app).
 *
 * Returns: %TRUE if @msg is being answered
 */
gboolean
sl_static_handle(SlStatic *self, SoupServerMessage *msg, const char *decoded_path)
{
	const char *method = soup_server_message_get_method(msg);
	const char *last = strrchr(decoded_path, '/');
	g_autofree char *file = NULL;
	g_autofree char *index = NULL;

	if (self->root == NULL || (!g_str_equal(method, "GET") && !g_str_equal(method, "HEAD")))
		return FALSE;
	if (g_str_equal(decoded_path, "/api") || g_str_has_prefix(decoded_path, "/api/"))
		return FALSE;

	file = resolve_file(self, decoded_path);
	if (file != NULL) {
		serve_file(msg, file);
		return TRUE;
	}
	if (last != NULL && strchr(last, '.') == NULL) {
		index = g_build_filename(self->root, "index.html", NULL);
		serve_file(msg, index);
		return TRUE;
	}
	return FALSE;
}
