#include "config.h"

#include <unistd.h>

#include "stdiolink.h"

/*
 * Demo driver: emits named events over time from the main loop, then a final result.
 * Good for watching live events in DriverLab and `stdiolinkctl driver exec`.
 */

static const char beat_meta[] =
    "{\"name\":\"beat\",\"description\":\"Emits a beat event every interval, then done\","
    "\"params\":["
    "{\"name\":\"count\",\"type\":\"int\",\"default\":3,\"min\":1,\"max\":1000,"
    "\"description\":\"How many beats\"},"
    "{\"name\":\"intervalMs\",\"type\":\"int\",\"default\":200,\"min\":0,\"max\":60000,"
    "\"description\":\"Milliseconds between beats\",\"ui\":{\"unit\":\"ms\"}},"
    "{\"name\":\"label\",\"type\":\"string\",\"default\":\"beat\",\"maxLength\":64}],"
    "\"returns\":{\"type\":\"object\",\"fields\":[{\"name\":\"beats\",\"type\":\"int\"}]},"
    "\"events\":[{\"name\":\"beat\",\"description\":\"One beat\",\"fields\":["
    "{\"name\":\"n\",\"type\":\"int\"},{\"name\":\"of\",\"type\":\"int\"},"
    "{\"name\":\"label\",\"type\":\"string\"}]}],"
    "\"examples\":[{\"description\":\"Five quick beats\",\"mode\":\"console\","
    "\"params\":{\"count\":5,\"intervalMs\":100}}]}";

static const char status_meta[] =
    "{\"name\":\"status\",\"description\":\"Reports the driver process\","
    "\"returns\":{\"type\":\"object\",\"fields\":[{\"name\":\"pid\",\"type\":\"int\"},"
    "{\"name\":\"beatsSent\",\"type\":\"int\"}]}}";

static const char fail_meta[] =
    "{\"name\":\"fail\",\"description\":\"Beats, then ends with an error\","
    "\"params\":[{\"name\":\"after\",\"type\":\"int\",\"default\":1,\"min\":0,\"max\":100},"
    "{\"name\":\"code\",\"type\":\"int\",\"default\":2,\"min\":1,\"max\":65535}]}";

/* beats sent by this process, for `status` */
static gint64 beats_sent;

typedef struct {
	StdiolinkDriverReply *reply;
	gint64 count;
	gint64 sent;
	gint64 error_code; /* 0: end with done */
	char *label;
} Beat;

static void
beat_free(gpointer data)
{
	Beat *beat = data;

	stdiolink_driver_reply_unref(beat->reply);
	g_free(beat->label);
	g_free(beat);
}

static void
send_beat(Beat *beat)
{
	JsonObject *object = json_object_new();
	g_autoptr(JsonNode) data = NULL;

	beat->sent++;
	beats_sent++;
	json_object_set_int_member(object, "n", beat->sent);
	json_object_set_int_member(object, "of", beat->count);
	json_object_set_string_member(object, "label", beat->label);
	data = stdiolink_json_node_new_object(object);
	stdiolink_driver_reply_event(beat->reply, "beat", data);
}

static void
finish_beat(Beat *beat)
{
	JsonObject *object;
	g_autoptr(JsonNode) data = NULL;

	if (beat->error_code != 0) {
		stdiolink_driver_reply_error(beat->reply, beat->error_code, "failed on purpose");
		return;
	}
	object = json_object_new();
	json_object_set_int_member(object, "beats", beat->sent);
	data = stdiolink_json_node_new_object(object);
	stdiolink_driver_reply_done(beat->reply, data);
}

static gboolean
beat_cb(gpointer user_data)
{
	Beat *beat = user_data;

	if (beat->sent < beat->count)
		send_beat(beat);
	if (beat->sent < beat->count)
		return G_SOURCE_CONTINUE;
	finish_beat(beat);
	return G_SOURCE_REMOVE;
}

static void
start_beats(StdiolinkDriverReply *reply, gint64 count, gint64 interval_ms, const char *label,
	    gint64 error_code)
{
	Beat *beat = g_new0(Beat, 1);

	beat->reply = stdiolink_driver_reply_ref(reply);
	beat->count = count;
	beat->error_code = error_code;
	beat->label = g_strdup(label);
	if (count == 0) {
		finish_beat(beat);
		beat_free(beat);
		return;
	}
	send_beat(beat);
	g_timeout_add_full(G_PRIORITY_DEFAULT, (guint)interval_ms, beat_cb, beat, beat_free);
}

static void
beat_command_cb(StdiolinkDriverReply *reply, JsonObject *params, gpointer user_data)
{
	start_beats(reply, json_object_get_int_member(params, "count"),
		    json_object_get_int_member(params, "intervalMs"),
		    json_object_get_string_member(params, "label"), 0);
}

static void
fail_command_cb(StdiolinkDriverReply *reply, JsonObject *params, gpointer user_data)
{
	start_beats(reply, json_object_get_int_member(params, "after"), 50, "beat",
		    json_object_get_int_member(params, "code"));
}

static void
status_command_cb(StdiolinkDriverReply *reply, JsonObject *params, gpointer user_data)
{
	JsonObject *object = json_object_new();
	g_autoptr(JsonNode) data = NULL;

	json_object_set_int_member(object, "pid", getpid());
	json_object_set_int_member(object, "beatsSent", beats_sent);
	data = stdiolink_json_node_new_object(object);
	stdiolink_driver_reply_done(reply, data);
}

int
main(int argc, char **argv)
{
	g_autoptr(StdiolinkDriverHelper) helper = NULL;
	g_autoptr(GError) error = NULL;

	helper = stdiolink_driver_helper_new("demo.heartbeat", "Heartbeat", "1.0.0");
	stdiolink_driver_helper_set_description(helper, "Emits beat events over time");
	stdiolink_driver_helper_set_vendor(helper, "stdiolink demo");
	if (!stdiolink_driver_helper_add_command(helper, beat_meta, beat_command_cb, NULL,
						 &error) ||
	    !stdiolink_driver_helper_add_command(helper, status_meta, status_command_cb, NULL,
						 &error) ||
	    !stdiolink_driver_helper_add_command(helper, fail_meta, fail_command_cb, NULL,
						 &error))
		g_error("heartbeat: %s", error->message);
	return stdiolink_driver_helper_run(helper, argc, argv);
}
