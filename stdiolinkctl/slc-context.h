#pragma once

#include "slc-console.h"
#include "stdiolink.h"

G_BEGIN_DECLS

/* the default daemon address, after --url and $STDIOLINK_URL */
#define SLC_DEFAULT_URL "http://127.0.0.1:6200"

/* `logs` without -n prints as many lines as the API does by default */
#define SLC_DEFAULT_LOG_LINES 100

/*
 * Failures of the CLI itself. Each code is the exit status it leads to (the nmcli way);
 * a STDIOLINK_ERROR from the server exits with 1.
 */
#define SLC_ERROR (slc_error_quark())

typedef enum {
	SLC_ERROR_FAILED = 1,	   /* the request failed or its answer was negative */
	SLC_ERROR_USAGE = 2,	   /* unknown command, missing argument, bad option */
	SLC_ERROR_UNREACHABLE = 3, /* the daemon could not be reached */
	SLC_ERROR_JOB_FAILED = 4,  /* a waited-for job or instance failed */
} SlcError;

GQuark slc_error_quark(void);
int slc_error_to_exit_status(const GError *error);

/* what every command gets: the global options and the connection */
typedef struct {
	char *url;
	gboolean json;
	gboolean colour;
	StdiolinkClient *client;
	GMainLoop *loop;
} SlcContext;

/* an integer option that was not given */
#define SLC_UNSET G_MININT

/* the verb-level options and the positional arguments left after them */
typedef struct {
	char **positional;
	char *project;
	char *config;
	char *config_file;
	int page;

	/* projects create / update */
	char *file;
	char *id;
	char *name;
	char *service;
	char *schedule;
	int interval_ms;
	int max_concurrent;
	int restart_delay_ms;
	int max_failures;
	int run_timeout_ms;
	gboolean disabled;
	char **set;

	/* logs */
	int lines;
	gboolean follow;

	/* events */
	char **types;

	/* services create / delete (put uses file) */
	char *version;
	char *template_name;
	char *description;
	char *author;
	gboolean force;

	/* drivers scan / services scan */
	gboolean no_refresh;
	gboolean no_revalidate;
	gboolean no_restart_scheduling;
	gboolean stop_invalid;
	gboolean no_wait;

	/* jobs list */
	char *kind;
	char *status;
} SlcArgs;

void slc_args_clear(SlcArgs *args);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SlcArgs, slc_args_clear)

JsonNode *slc_context_request(SlcContext *ctx,
			      const char *method,
			      const char *path,
			      JsonNode *body,
			      GBytes **raw_body,
			      GError **error);
void slc_context_request_async(SlcContext *ctx,
			       const char *method,
			       const char *path,
			       JsonNode *body,
			       GCancellable *cancellable,
			       GAsyncReadyCallback callback,
			       gpointer user_data);
JsonNode *slc_context_request_finish(SlcContext *ctx,
				     GAsyncResult *res,
				     GBytes **raw_body,
				     GError **error);
void slc_context_take_error(SlcContext *ctx, GError *transport_error, GError **error);
void slc_context_print_error_body(SlcContext *ctx, guint status, GBytes *raw_body);
void slc_context_print_raw(SlcContext *ctx, GBytes *raw_body);
void slc_context_print_table(SlcContext *ctx, SlcTable *table);

gboolean slc_context_action(SlcContext *ctx,
			    const char *method,
			    const char *path,
			    JsonNode *body,
			    JsonNode **answer,
			    GError **error);

typedef void (*SlcRenderFunc)(SlcContext *ctx, JsonNode *node);
gboolean slc_context_show(SlcContext *ctx, const char *path, SlcRenderFunc render, GError **error);

/* the commands that keep running until Ctrl+C */
typedef void (*SlcInterruptFunc)(gpointer user_data);
guint slc_context_on_interrupt(SlcInterruptFunc func, gpointer user_data);
char *slc_format_bytes(JsonNode *root, const char *path);
char *slc_format_percent(JsonNode *root, const char *path);

JsonNode *slc_json_lookup(JsonNode *root, const char *path);
const char *slc_json_get_string(JsonNode *root, const char *path);
JsonArray *slc_json_get_array(JsonNode *root, const char *path);
char *slc_json_display(JsonNode *root, const char *path);
char *slc_json_display_strings(JsonNode *root, const char *path);
SlcStyle slc_status_style(const char *status);
void slc_fields_add(SlcTable *fields, const char *label, const char *value, SlcStyle style);
void slc_fields_add_status(SlcTable *fields,
			   const char *label,
			   JsonNode *root,
			   const char *path);
void slc_fields_add_json(SlcTable *fields, const char *label, JsonNode *root, const char *path);

G_END_DECLS
