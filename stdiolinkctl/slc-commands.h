#pragma once

#include "slc-context.h"

G_BEGIN_DECLS

typedef struct _SlcCommand SlcCommand;

gboolean slc_commands_noun_has_verbs(const char *noun);
const SlcCommand *slc_commands_lookup(const char *noun, const char *verb, GError **error);
gboolean slc_commands_parse_args(const SlcCommand *command,
				 GPtrArray *argv,
				 SlcArgs *args,
				 GError **error);
gboolean slc_commands_run(const SlcCommand *command,
			  SlcContext *ctx,
			  SlcArgs *args,
			  GError **error);
gboolean slc_commands_print_help(const char *noun, const char *verb, GError **error);
void slc_commands_print_usage_hint(void);

/* shared by the project and instance commands */
SlcTable *slc_instances_table_new(JsonArray *instances);
char *slc_project_path(const char *id, const char *action);
char *slc_instance_path(const char *id, const char *action);
JsonNode *slc_parse_json_object(const char *text, const char *origin, GError **error);
JsonNode *slc_read_json_object(const char *file, GError **error);
JsonNode *slc_config_option(SlcArgs *args, GError **error);

/* shared by the scans: submit a job, follow it, print its result (slc-cmd-jobs.c) */
gboolean slc_jobs_run(SlcContext *ctx,
		      const char *path,
		      JsonNode *body,
		      gboolean wait,
		      GError **error);

/* the handlers, one file per noun (slc-cmd-<noun>.c) */
gboolean slc_cmd_status(SlcContext *ctx, SlcArgs *args, GError **error);
gboolean slc_cmd_services_list(SlcContext *ctx, SlcArgs *args, GError **error);
gboolean slc_cmd_services_show(SlcContext *ctx, SlcArgs *args, GError **error);
gboolean slc_cmd_services_create(SlcContext *ctx, SlcArgs *args, GError **error);
gboolean slc_cmd_services_delete(SlcContext *ctx, SlcArgs *args, GError **error);
gboolean slc_cmd_services_files(SlcContext *ctx, SlcArgs *args, GError **error);
gboolean slc_cmd_services_cat(SlcContext *ctx, SlcArgs *args, GError **error);
gboolean slc_cmd_services_put(SlcContext *ctx, SlcArgs *args, GError **error);
gboolean slc_cmd_services_rm(SlcContext *ctx, SlcArgs *args, GError **error);
gboolean slc_cmd_services_scan(SlcContext *ctx, SlcArgs *args, GError **error);
gboolean slc_cmd_projects_list(SlcContext *ctx, SlcArgs *args, GError **error);
gboolean slc_cmd_projects_show(SlcContext *ctx, SlcArgs *args, GError **error);
gboolean slc_cmd_projects_create(SlcContext *ctx, SlcArgs *args, GError **error);
gboolean slc_cmd_projects_update(SlcContext *ctx, SlcArgs *args, GError **error);
gboolean slc_cmd_projects_delete(SlcContext *ctx, SlcArgs *args, GError **error);
gboolean slc_cmd_projects_enable(SlcContext *ctx, SlcArgs *args, GError **error);
gboolean slc_cmd_projects_disable(SlcContext *ctx, SlcArgs *args, GError **error);
gboolean slc_cmd_projects_reload(SlcContext *ctx, SlcArgs *args, GError **error);
gboolean slc_cmd_projects_runtime(SlcContext *ctx, SlcArgs *args, GError **error);
gboolean slc_cmd_projects_logs(SlcContext *ctx, SlcArgs *args, GError **error);
gboolean slc_cmd_projects_validate(SlcContext *ctx, SlcArgs *args, GError **error);
gboolean slc_cmd_projects_start(SlcContext *ctx, SlcArgs *args, GError **error);
gboolean slc_cmd_projects_stop(SlcContext *ctx, SlcArgs *args, GError **error);
gboolean slc_cmd_instances_list(SlcContext *ctx, SlcArgs *args, GError **error);
gboolean slc_cmd_instances_show(SlcContext *ctx, SlcArgs *args, GError **error);
gboolean slc_cmd_instances_terminate(SlcContext *ctx, SlcArgs *args, GError **error);
gboolean slc_cmd_instances_logs(SlcContext *ctx, SlcArgs *args, GError **error);
gboolean slc_cmd_instances_tree(SlcContext *ctx, SlcArgs *args, GError **error);
gboolean slc_cmd_instances_resources(SlcContext *ctx, SlcArgs *args, GError **error);
gboolean slc_cmd_drivers_list(SlcContext *ctx, SlcArgs *args, GError **error);
gboolean slc_cmd_drivers_show(SlcContext *ctx, SlcArgs *args, GError **error);
gboolean slc_cmd_drivers_meta(SlcContext *ctx, SlcArgs *args, GError **error);
gboolean slc_cmd_drivers_docs(SlcContext *ctx, SlcArgs *args, GError **error);
gboolean slc_cmd_drivers_scan(SlcContext *ctx, SlcArgs *args, GError **error);
gboolean slc_cmd_driver_exec(SlcContext *ctx, SlcArgs *args, GError **error);
gboolean slc_cmd_jobs_list(SlcContext *ctx, SlcArgs *args, GError **error);
gboolean slc_cmd_jobs_show(SlcContext *ctx, SlcArgs *args, GError **error);
gboolean slc_cmd_jobs_wait(SlcContext *ctx, SlcArgs *args, GError **error);
gboolean slc_cmd_jobs_cancel(SlcContext *ctx, SlcArgs *args, GError **error);
gboolean slc_cmd_events(SlcContext *ctx, SlcArgs *args, GError **error);

G_END_DECLS
