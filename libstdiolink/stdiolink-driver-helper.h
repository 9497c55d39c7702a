#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/*
 * The driver side of the JSONL protocol (protocol.md): a C program registers its commands
 * with their metadata and handlers, then hands its command line to
 * stdiolink_driver_helper_run(), which does the rest: stdio and console modes, profiles,
 * meta.describe, parameter validation with defaults, --export-meta and --export-doc.
 */

#define STDIOLINK_TYPE_DRIVER_HELPER (stdiolink_driver_helper_get_type())
G_DECLARE_FINAL_TYPE(StdiolinkDriverHelper, stdiolink_driver_helper, STDIOLINK, DRIVER_HELPER,
		     GObject)

/* the answer channel of one request; refcounted, main thread only */
typedef struct _StdiolinkDriverReply StdiolinkDriverReply;

/**
 * StdiolinkDriverCommandFunc:
 * @reply: where the answer goes; borrowed, take a reference to answer later
 * @params: the request data, defaults filled and validated against the command's `params`
 * @user_data: as registered
 *
 * Handles one command. It must end the request exactly once, now or later from the main
 * loop, with stdiolink_driver_reply_done() or stdiolink_driver_reply_error(); events may
 * come before. The next request is read only after that.
 */
typedef void (*StdiolinkDriverCommandFunc)(StdiolinkDriverReply *reply,
					   JsonObject *params,
					   gpointer user_data);

StdiolinkDriverHelper *stdiolink_driver_helper_new(const char *id,
						   const char *name,
						   const char *version);
void stdiolink_driver_helper_set_description(StdiolinkDriverHelper *self,
					     const char *description);
void stdiolink_driver_helper_set_vendor(StdiolinkDriverHelper *self, const char *vendor);
gboolean stdiolink_driver_helper_add_command(StdiolinkDriverHelper *self,
					     const char *command_meta,
					     StdiolinkDriverCommandFunc func,
					     gpointer user_data,
					     GError **error);
JsonNode *stdiolink_driver_helper_get_meta(StdiolinkDriverHelper *self);
int stdiolink_driver_helper_run(StdiolinkDriverHelper *self, int argc, char **argv);

#define STDIOLINK_TYPE_DRIVER_REPLY (stdiolink_driver_reply_get_type())
GType stdiolink_driver_reply_get_type(void) G_GNUC_CONST;
StdiolinkDriverReply *stdiolink_driver_reply_ref(StdiolinkDriverReply *reply);
void stdiolink_driver_reply_unref(StdiolinkDriverReply *reply);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(StdiolinkDriverReply, stdiolink_driver_reply_unref)

const char *stdiolink_driver_reply_get_command(StdiolinkDriverReply *reply);
gboolean stdiolink_driver_reply_is_finished(StdiolinkDriverReply *reply);
void stdiolink_driver_reply_event(StdiolinkDriverReply *reply, const char *name, JsonNode *data);
void stdiolink_driver_reply_done(StdiolinkDriverReply *reply, JsonNode *data);
void stdiolink_driver_reply_error(StdiolinkDriverReply *reply, gint64 code, const char *message);
void stdiolink_driver_reply_error_data(StdiolinkDriverReply *reply, gint64 code, JsonNode *data);

G_END_DECLS
