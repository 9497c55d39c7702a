#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "stdiolink-jsonl.h"

G_BEGIN_DECLS

/*
 * The host side of the JSONL protocol: one driver program, started (and restarted) on
 * GSubprocess, talked to without ever blocking the main loop. Lines written to its stdin
 * are queued; its stdout is read asynchronously and split into lines; its stderr is
 * discarded; its exit is observed with g_subprocess_wait_async().
 */

#define STDIOLINK_TYPE_DRIVER_SESSION (stdiolink_driver_session_get_type())
G_DECLARE_FINAL_TYPE(StdiolinkDriverSession, stdiolink_driver_session, STDIOLINK,
		     DRIVER_SESSION, GObject)

/**
 * StdiolinkDriverEventFunc:
 * @response: an `event` response of the request in flight
 * @user_data: as given to stdiolink_driver_session_request_async()
 */
typedef void (*StdiolinkDriverEventFunc)(const StdiolinkJsonlResponse *response,
					 gpointer user_data);

StdiolinkDriverSession *stdiolink_driver_session_new(const char *program,
						     const char *const *args,
						     const char *const *envp);
void stdiolink_driver_session_set_max_buffer(StdiolinkDriverSession *self, gsize max_buffer);
gboolean stdiolink_driver_session_start(StdiolinkDriverSession *self, GError **error);
gboolean stdiolink_driver_session_is_running(StdiolinkDriverSession *self);
gint stdiolink_driver_session_get_pid(StdiolinkDriverSession *self);
void stdiolink_driver_session_write_line(StdiolinkDriverSession *self, const char *line);
void stdiolink_driver_session_close_stdin(StdiolinkDriverSession *self);
void stdiolink_driver_session_kill(StdiolinkDriverSession *self);

void stdiolink_driver_session_request_async(StdiolinkDriverSession *self,
					    const char *cmd,
					    JsonNode *data,
					    StdiolinkDriverEventFunc event_func,
					    gpointer event_data,
					    GCancellable *cancellable,
					    GAsyncReadyCallback callback,
					    gpointer user_data);
StdiolinkJsonlResponse *stdiolink_driver_session_request_finish(StdiolinkDriverSession *self,
								GAsyncResult *result,
								GError **error);

char **stdiolink_driver_environ(const char *exe_dir);

G_END_DECLS
