#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/**
 * StdiolinkScheduleType:
 * @STDIOLINK_SCHEDULE_MANUAL: started only on request
 * @STDIOLINK_SCHEDULE_FIXED_RATE: started by a periodic timer
 * @STDIOLINK_SCHEDULE_DAEMON: kept running, restarted after failures
 */
typedef enum {
	STDIOLINK_SCHEDULE_MANUAL,
	STDIOLINK_SCHEDULE_FIXED_RATE,
	STDIOLINK_SCHEDULE_DAEMON,
} StdiolinkScheduleType;

/**
 * StdiolinkSchedule:
 * @type: the schedule type
 * @run_timeout_ms: kill an instance after this long; 0 = never (every type)
 * @interval_ms: fixed_rate period
 * @max_concurrent: fixed_rate: live instances at most
 * @restart_delay_ms: daemon: delay before a restart after a failure
 * @max_consecutive_failures: daemon: failures before restarts are suppressed
 *
 * A plain value; the keys of the other types keep their defaults and are not serialized.
 */
typedef struct {
	StdiolinkScheduleType type;
	gint run_timeout_ms;
	gint interval_ms;
	gint max_concurrent;
	gint restart_delay_ms;
	gint max_consecutive_failures;
} StdiolinkSchedule;

void stdiolink_schedule_init(StdiolinkSchedule *s);
const char *stdiolink_schedule_type_to_string(StdiolinkScheduleType t);
gboolean stdiolink_schedule_parse(JsonNode *node, StdiolinkSchedule *out, GError **error);
JsonNode *stdiolink_schedule_to_json(const StdiolinkSchedule *s);

G_END_DECLS
