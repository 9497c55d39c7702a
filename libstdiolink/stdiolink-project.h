#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>

#include "stdiolink-schedule.h"
#include "stdiolink-schema.h"

G_BEGIN_DECLS

#define STDIOLINK_TYPE_PROJECT (stdiolink_project_get_type())
G_DECLARE_FINAL_TYPE(StdiolinkProject, stdiolink_project, STDIOLINK, PROJECT, GObject)

StdiolinkProject *stdiolink_project_new_from_json(const char *id,
						  JsonObject *body,
						  gboolean allow_config,
						  GError **error);
StdiolinkProject *stdiolink_project_load(const char *projects_dir, const char *id);
GPtrArray *stdiolink_project_load_all(const char *projects_dir);
void stdiolink_project_validate(StdiolinkProject *p,
				const char *service_id_found,
				StdiolinkSchema *schema);
gboolean stdiolink_project_save(StdiolinkProject *p, const char *projects_dir, GError **error);
gboolean stdiolink_project_remove(const char *projects_dir, const char *id, GError **error);
StdiolinkProject *stdiolink_project_copy(StdiolinkProject *p);

const char *stdiolink_project_get_id(StdiolinkProject *p);
const char *stdiolink_project_get_name(StdiolinkProject *p);
const char *stdiolink_project_get_service_id(StdiolinkProject *p);
gboolean stdiolink_project_get_enabled(StdiolinkProject *p);
void stdiolink_project_set_enabled(StdiolinkProject *p, gboolean enabled);
const StdiolinkSchedule *stdiolink_project_get_schedule(StdiolinkProject *p);
JsonObject *stdiolink_project_get_config(StdiolinkProject *p);
void stdiolink_project_set_config(StdiolinkProject *p, JsonObject *config);
gboolean stdiolink_project_get_valid(StdiolinkProject *p);
const char *stdiolink_project_get_error(StdiolinkProject *p);
void stdiolink_project_set_invalid(StdiolinkProject *p, const char *error);
gboolean stdiolink_project_is_load_error(StdiolinkProject *p);

const char *stdiolink_project_status(StdiolinkProject *p, guint live_instances);
JsonNode *stdiolink_project_to_json(StdiolinkProject *p, guint live_instances);

G_END_DECLS
