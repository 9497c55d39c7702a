#include "config.h"

#include <math.h>

#include "stdiolink-error.h"
#include "stdiolink-json.h"
#include "stdiolink-schedule.h"

#define DEFAULT_INTERVAL_MS 5000
#define DEFAULT_MAX_CONCURRENT 1
#define DEFAULT_RESTART_DELAY_MS 3000
#define DEFAULT_MAX_CONSECUTIVE_FAILURES 5

/**
 * stdiolink_schedule_init:
 * @s: the schedule to fill
 *
 * Sets @s to the default schedule: manual, no run timeout, every other key at its default.
 */
void
stdiolink_schedule_init(StdiolinkSchedule *s)
{
	s->type = STDIOLINK_SCHEDULE_MANUAL;
	s->run_timeout_ms = 0;
	s->interval_ms = DEFAULT_INTERVAL_MS;
	s->max_concurrent = DEFAULT_MAX_CONCURRENT;
	s->restart_delay_ms = DEFAULT_RESTART_DELAY_MS;
	s->max_consecutive_failures = DEFAULT_MAX_CONSECUTIVE_FAILURES;
}

/**
 * stdiolink_schedule_type_to_string:
 * @t: a schedule type
 *
 * Returns: `manual`, `fixed_rate` or `daemon`
 */
const char *
stdiolink_schedule_type_to_string(StdiolinkScheduleType t)
{
	switch (t) {
	case STDIOLINK_SCHEDULE_FIXED_RATE:
		return "fixed_rate";
	case STDIOLINK_SCHEDULE_DAEMON:
		return "daemon";
	case STDIOLINK_SCHEDULE_MANUAL:
	default:
		return "manual";
	}
}

/* a number that is finite, integral and within [lo, hi] */
static gboolean
node_get_int_in_range(JsonNode *node, double lo, double hi, gint *out)
{
	double v;

	if (!stdiolink_json_node_is_number(node))
		return FALSE;
	v = stdiolink_json_node_get_number(node);
	if (!isfinite(v) || floor(v) != v || v < lo || v > hi)
		return FALSE;
	*out = (gint)v;
	return TRUE;
}

/* the type-specific keys are read leniently: anything that is not an int32 is the default */
static gint
get_int_lenient(JsonObject *obj, const char *key, gint default_value)
{
	gint value;

	if (!node_get_int_in_range(json_object_get_member(obj, key), G_MININT32, G_MAXINT32,
				   &value))
		return default_value;
	return value;
}

static gboolean
parse_run_timeout(JsonObject *obj, StdiolinkSchedule *out, GError **error)
{
	JsonNode *node = json_object_get_member(obj, "runTimeoutMs");

	if (node == NULL)
		return TRUE;
	if (!node_get_int_in_range(node, 0, G_MAXINT32, &out->run_timeout_ms)) {
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
				    "schedule.runTimeoutMs must be an integer >= 0");
		return FALSE;
	}
	return TRUE;
}

static gboolean
parse_fixed_rate(JsonObject *obj, StdiolinkSchedule *out, GError **error)
{
	out->type = STDIOLINK_SCHEDULE_FIXED_RATE;
	out->interval_ms = get_int_lenient(obj, "intervalMs", DEFAULT_INTERVAL_MS);
	out->max_concurrent = get_int_lenient(obj, "maxConcurrent", DEFAULT_MAX_CONCURRENT);

	if (out->interval_ms < 100) {
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
				    "schedule.intervalMs must be >= 100");
		return FALSE;
	}
	if (out->max_concurrent < 1) {
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
				    "schedule.maxConcurrent must be >= 1");
		return FALSE;
	}
	return TRUE;
}

static gboolean
parse_daemon(JsonObject *obj, StdiolinkSchedule *out, GError **error)
{
	out->type = STDIOLINK_SCHEDULE_DAEMON;
	out->restart_delay_ms = get_int_lenient(obj, "restartDelayMs", DEFAULT_RESTART_DELAY_MS);
	out->max_consecutive_failures = get_int_lenient(obj, "maxConsecutiveFailures",
							DEFAULT_MAX_CONSECUTIVE_FAILURES);

	if (out->restart_delay_ms < 0) {
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
				    "schedule.restartDelayMs must be >= 0");
		return FALSE;
	}
	if (out->max_consecutive_failures < 1) {
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
				    "schedule.maxConsecutiveFailures must be >= 1");
		return FALSE;
	}
	return TRUE;
}

/**
 * stdiolink_schedule_parse:
 * @node: (nullable): the `schedule` value; %NULL means absent (manual)
 * @out: (out caller-allocates): the parsed schedule
 * @error: return location for a #GError (%STDIOLINK_ERROR_BAD_REQUEST)
 *
 * Parses a schedule object as scheduling.md section 2 describes: `runTimeoutMs` first and
 * strictly, a non-string `type` counts as manual, the type's own keys are read leniently
 * and then bound-checked, unknown keys are ignored. On failure @out holds what was parsed
 * before the error, as the earlier server kept it.
 *
 * Returns: %TRUE on success
 */
gboolean
stdiolink_schedule_parse(JsonNode *node, StdiolinkSchedule *out, GError **error)
{
	JsonObject *obj;
	const char *type;

	stdiolink_schedule_init(out);
	if (node == NULL)
		return TRUE;
	if (!JSON_NODE_HOLDS_OBJECT(node)) {
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
				    "project field 'schedule' must be an object");
		return FALSE;
	}
	obj = json_node_get_object(node);

	if (!parse_run_timeout(obj, out, error))
		return FALSE;

	type = stdiolink_json_object_get_string(obj, "type");
	if (type == NULL || g_str_equal(type, "manual"))
		return TRUE;
	if (g_str_equal(type, "fixed_rate"))
		return parse_fixed_rate(obj, out, error);
	if (g_str_equal(type, "daemon"))
		return parse_daemon(obj, out, error);

	g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
		    "unknown schedule type: %s", type);
	return FALSE;
}

/**
 * stdiolink_schedule_to_json:
 * @s: a schedule
 *
 * Serializes @s as ScheduleJSON (http-api.md 1.5): `type`, `runTimeoutMs` and the keys
 * of its type only.
 *
 * Returns: (transfer full): an object node
 */
JsonNode *
stdiolink_schedule_to_json(const StdiolinkSchedule *s)
{
	JsonObject *obj = json_object_new();
	JsonNode *node = json_node_new(JSON_NODE_OBJECT);

	json_object_set_string_member(obj, "type", stdiolink_schedule_type_to_string(s->type));
	json_object_set_int_member(obj, "runTimeoutMs", s->run_timeout_ms);

	if (s->type == STDIOLINK_SCHEDULE_FIXED_RATE) {
		json_object_set_int_member(obj, "intervalMs", s->interval_ms);
		json_object_set_int_member(obj, "maxConcurrent", s->max_concurrent);
	} else if (s->type == STDIOLINK_SCHEDULE_DAEMON) {
		json_object_set_int_member(obj, "restartDelayMs", s->restart_delay_ms);
		json_object_set_int_member(obj, "maxConsecutiveFailures",
					   s->max_consecutive_failures);
	}

	json_node_take_object(node, obj);
	return node;
}
