#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/**
 * StdiolinkInstanceState:
 * @STDIOLINK_INSTANCE_STARTING: spawn requested; pid 0
 * @STDIOLINK_INSTANCE_RUNNING: the process runs; `instance.started` was published
 * @STDIOLINK_INSTANCE_STOPPED: it exited by itself with code 0
 * @STDIOLINK_INSTANCE_FAILED: it could not start, crashed, was killed or exited non-zero
 *
 * scheduling.md 3.1. Only starting and running records are visible through the API.
 */
typedef enum {
	STDIOLINK_INSTANCE_STARTING,
	STDIOLINK_INSTANCE_RUNNING,
	STDIOLINK_INSTANCE_STOPPED,
	STDIOLINK_INSTANCE_FAILED,
} StdiolinkInstanceState;

const char *stdiolink_instance_state_to_string(StdiolinkInstanceState s);

#define STDIOLINK_TYPE_INSTANCE (stdiolink_instance_get_type())
G_DECLARE_FINAL_TYPE(StdiolinkInstance, stdiolink_instance, STDIOLINK, INSTANCE, GObject)

const char *stdiolink_instance_get_id(StdiolinkInstance *inst);
const char *stdiolink_instance_get_project_id(StdiolinkInstance *inst);
const char *stdiolink_instance_get_service_id(StdiolinkInstance *inst);
gint stdiolink_instance_get_pid(StdiolinkInstance *inst);
StdiolinkInstanceState stdiolink_instance_get_state(StdiolinkInstance *inst);
const char *stdiolink_instance_get_started_at(StdiolinkInstance *inst);
const char *stdiolink_instance_get_working_directory(StdiolinkInstance *inst);
const char *stdiolink_instance_get_log_path(StdiolinkInstance *inst);
const char *const *stdiolink_instance_get_command_line(StdiolinkInstance *inst);
const char *stdiolink_instance_get_config_path(StdiolinkInstance *inst);
const char *stdiolink_instance_get_guard_name(StdiolinkInstance *inst);
gboolean stdiolink_instance_is_live(StdiolinkInstance *inst);
JsonNode *stdiolink_instance_to_json(StdiolinkInstance *inst, gboolean detail);

G_END_DECLS
