#include "config.h"

#include <errno.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "stdiolink-error.h"
#include "stdiolink-process-guard-private.h"

/*
 * The process guard (data-root.md 10.1): a Unix stream socket per instance that the child
 * connects to and watches. We accept and hold every connection and never exchange data;
 * when we close it (the instance is gone) or when the daemon dies, the child exits by
 * itself.
 */

#define GUARD_START_FAILED "failed to start process guard server"

struct _StdiolinkProcessGuard {
	GObject parent_instance;

	char *name;
	char *path;
	GSocketService *service;
	GPtrArray *connections; /* GSocketConnection */
	gboolean bound;
};

G_DEFINE_FINAL_TYPE(StdiolinkProcessGuard, stdiolink_process_guard, G_TYPE_OBJECT)

static void
stdiolink_process_guard_dispose(GObject *object)
{
	StdiolinkProcessGuard *self = STDIOLINK_PROCESS_GUARD(object);

	stdiolink_process_guard_close(self);
	G_OBJECT_CLASS(stdiolink_process_guard_parent_class)->dispose(object);
}

static void
stdiolink_process_guard_finalize(GObject *object)
{
	StdiolinkProcessGuard *self = STDIOLINK_PROCESS_GUARD(object);

	g_ptr_array_unref(self->connections);
	g_free(self->name);
	g_free(self->path);
	G_OBJECT_CLASS(stdiolink_process_guard_parent_class)->finalize(object);
}

static void
stdiolink_process_guard_class_init(StdiolinkProcessGuardClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->dispose = stdiolink_process_guard_dispose;
	object_class->finalize = stdiolink_process_guard_finalize;
}

static void
stdiolink_process_guard_init(StdiolinkProcessGuard *self)
{
	self->connections = g_ptr_array_new_with_free_func(g_object_unref);
}

static gboolean
incoming_cb(GSocketService *service,
	    GSocketConnection *connection,
	    GObject *source_object,
	    gpointer user_data)
{
	StdiolinkProcessGuard *self = STDIOLINK_PROCESS_GUARD(user_data);

	/* holding the connection open is the whole protocol */
	g_ptr_array_add(self->connections, g_object_ref(connection));
	return TRUE;
}

static char *
guard_dir(void)
{
	g_autofree char *dir = g_strdup(g_get_tmp_dir());
	gsize len = strlen(dir);

	while (len > 1 && dir[len - 1] == '/')
		dir[--len] = '\0';
	return g_steal_pointer(&dir);
}

static gboolean
listen_on(StdiolinkProcessGuard *self, GError **error)
{
	g_autoptr(GSocketAddress) address = g_unix_socket_address_new(self->path);

	return g_socket_listener_add_address(G_SOCKET_LISTENER(self->service),
					     address,
					     G_SOCKET_TYPE_STREAM,
					     G_SOCKET_PROTOCOL_DEFAULT,
					     NULL,
					     NULL,
					     error);
}

static gboolean
bind_guard(StdiolinkProcessGuard *self)
{
	g_autoptr(GError) error = NULL;

	/* GUnixSocketAddress would silently cut a path longer than sun_path */
	if (strlen(self->path) >= sizeof(((struct sockaddr_un *)NULL)->sun_path)) {
		g_debug("guard %s: path too long", self->path);
		return FALSE;
	}

	if (listen_on(self, &error))
		return TRUE;

	/* a stale socket left by an earlier daemon: remove it and retry once */
	if (!g_file_test(self->path, G_FILE_TEST_EXISTS)) {
		g_debug("guard %s: %s", self->path, error->message);
		return FALSE;
	}
	g_clear_error(&error);
	g_unlink(self->path);
	if (listen_on(self, &error))
		return TRUE;
	g_debug("guard %s: %s", self->path, error->message);
	return FALSE;
}

/**
 * stdiolink_process_guard_new_with_name: (skip)
 * @name: the socket name, e.g. `stdiolink_guard_<uuid>`
 * @error: return location for a #GError
 *
 * Listens on `<tmpdir>/<name>` with mode 0777.
 *
 * Returns: (transfer full): the guard, or %NULL with %STDIOLINK_ERROR_START_FAILED
 */
StdiolinkProcessGuard *
stdiolink_process_guard_new_with_name(const char *name, GError **error)
{
	g_autoptr(StdiolinkProcessGuard) self = g_object_new(STDIOLINK_TYPE_PROCESS_GUARD, NULL);
	g_autofree char *dir = guard_dir();

	self->name = g_strdup(name);
	self->path = g_build_filename(dir, name, NULL);
	self->service = g_socket_service_new();
	g_signal_connect(self->service, "incoming", G_CALLBACK(incoming_cb), self);

	if (!bind_guard(self)) {
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_START_FAILED,
				    GUARD_START_FAILED);
		return NULL;
	}
	self->bound = TRUE;

	/* the child may run as another user */
	if (g_chmod(self->path, 0777) != 0)
		g_debug("guard %s: chmod: %s", self->path, g_strerror(errno));

	g_socket_service_start(self->service);
	return g_steal_pointer(&self);
}

/**
 * stdiolink_process_guard_new: (skip)
 * @error: return location for a #GError
 *
 * Returns: (transfer full): a guard named `stdiolink_guard_<uuid>`, or %NULL
 */
StdiolinkProcessGuard *
stdiolink_process_guard_new(GError **error)
{
	g_autofree char *uuid = g_uuid_string_random();
	g_autofree char *name = g_strconcat("stdiolink_guard_", uuid, NULL);

	return stdiolink_process_guard_new_with_name(name, error);
}

/**
 * stdiolink_process_guard_get_name: (skip)
 * @guard: a guard
 *
 * Returns: the name passed to the child (`--guard=` or `STDIOLINK_GUARD`)
 */
const char *
stdiolink_process_guard_get_name(StdiolinkProcessGuard *guard)
{
	return guard->name;
}

/**
 * stdiolink_process_guard_get_path: (skip)
 * @guard: a guard
 *
 * Returns: the socket path
 */
const char *
stdiolink_process_guard_get_path(StdiolinkProcessGuard *guard)
{
	return guard->path;
}

/**
 * stdiolink_process_guard_get_n_connections: (skip)
 * @guard: a guard
 *
 * Returns: how many connections were accepted and are held
 */
guint
stdiolink_process_guard_get_n_connections(StdiolinkProcessGuard *guard)
{
	return guard->connections->len;
}

/**
 * stdiolink_process_guard_close: (skip)
 * @guard: a guard
 *
 * Closes the held connections and the listener and unlinks the socket. Safe to call twice.
 */
void
stdiolink_process_guard_close(StdiolinkProcessGuard *guard)
{
	for (guint i = 0; i < guard->connections->len; i++)
		g_io_stream_close(g_ptr_array_index(guard->connections, i), NULL, NULL);
	g_ptr_array_set_size(guard->connections, 0);

	if (guard->service != NULL) {
		g_signal_handlers_disconnect_by_data(guard->service, guard);
		g_socket_service_stop(guard->service);
		g_socket_listener_close(G_SOCKET_LISTENER(guard->service));
		g_clear_object(&guard->service);
	}

	if (guard->bound)
		g_unlink(guard->path);
	guard->bound = FALSE;
}
