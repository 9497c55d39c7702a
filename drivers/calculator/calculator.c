#include "config.h"

#include <math.h>

#include "stdiolink.h"

/*
 * Demo driver: arithmetic on numbers. Shows required parameters, a default, an array
 * parameter with item checks, and a driver-defined error code.
 */

#define NUMBER_PARAMS                                                                      \
	"[{\"name\":\"a\",\"type\":\"double\",\"required\":true,"                        \
	"\"description\":\"First operand\"},"                                                  \
	"{\"name\":\"b\",\"type\":\"double\",\"required\":true,"                         \
	"\"description\":\"Second operand\"}]"

#define RESULT_RETURNS                                                                     \
	"{\"type\":\"object\",\"fields\":[{\"name\":\"result\",\"type\":\"double\"}]}"

static const char add_meta[] =
    "{\"name\":\"add\",\"description\":\"Adds two numbers\",\"params\":" NUMBER_PARAMS
    ",\"returns\":" RESULT_RETURNS ",\"examples\":[{\"description\":\"1 + 2\",\"mode\":"
    "\"console\",\"params\":{\"a\":1,\"b\":2},\"expectedOutput\":{\"result\":3}}]}";

static const char subtract_meta[] =
    "{\"name\":\"subtract\",\"description\":\"Subtracts b from a\",\"params\":" NUMBER_PARAMS
    ",\"returns\":" RESULT_RETURNS "}";

static const char multiply_meta[] =
    "{\"name\":\"multiply\",\"description\":\"Multiplies two numbers\",\"params\":" NUMBER_PARAMS
    ",\"returns\":" RESULT_RETURNS "}";

static const char divide_meta[] =
    "{\"name\":\"divide\",\"description\":\"Divides a by b (error 1 when b is 0)\","
    "\"params\":[{\"name\":\"a\",\"type\":\"double\",\"required\":true},"
    "{\"name\":\"b\",\"type\":\"double\",\"required\":true},"
    "{\"name\":\"digits\",\"type\":\"int\",\"default\":6,\"min\":0,\"max\":15,"
    "\"description\":\"Decimal places to round to\"}],"
    "\"returns\":" RESULT_RETURNS ","
    "\"errors\":[{\"code\":1,\"message\":\"division by zero\"}]}";

static const char sum_meta[] =
    "{\"name\":\"sum\",\"description\":\"Adds up a list of numbers\","
    "\"params\":[{\"name\":\"values\",\"type\":\"array\",\"required\":true,\"minItems\":1,"
    "\"maxItems\":10000,\"items\":{\"type\":\"double\"},\"description\":\"The numbers\"}],"
    "\"returns\":{\"type\":\"object\",\"fields\":[{\"name\":\"result\",\"type\":\"double\"},"
    "{\"name\":\"count\",\"type\":\"int\"}]}}";

static double
number_param(JsonObject *params, const char *name)
{
	return stdiolink_json_node_get_number(json_object_get_member(params, name));
}

static void
reply_result(StdiolinkDriverReply *reply, double value, gint count)
{
	JsonObject *result = json_object_new();
	g_autoptr(JsonNode) node = NULL;

	json_object_set_double_member(result, "result", value);
	if (count >= 0)
		json_object_set_int_member(result, "count", count);
	node = stdiolink_json_node_new_object(result);
	stdiolink_driver_reply_done(reply, node);
}

static void
add_cb(StdiolinkDriverReply *reply, JsonObject *params, gpointer user_data)
{
	reply_result(reply, number_param(params, "a") + number_param(params, "b"), -1);
}

static void
subtract_cb(StdiolinkDriverReply *reply, JsonObject *params, gpointer user_data)
{
	reply_result(reply, number_param(params, "a") - number_param(params, "b"), -1);
}

static void
multiply_cb(StdiolinkDriverReply *reply, JsonObject *params, gpointer user_data)
{
	reply_result(reply, number_param(params, "a") * number_param(params, "b"), -1);
}

static void
divide_cb(StdiolinkDriverReply *reply, JsonObject *params, gpointer user_data)
{
	double b = number_param(params, "b");
	double scale = pow(10, number_param(params, "digits"));

	if (b == 0) {
		stdiolink_driver_reply_error(reply, 1, "division by zero");
		return;
	}
	reply_result(reply, round(number_param(params, "a") / b * scale) / scale, -1);
}

static void
sum_cb(StdiolinkDriverReply *reply, JsonObject *params, gpointer user_data)
{
	JsonArray *values = json_object_get_array_member(params, "values");
	guint n = json_array_get_length(values);
	double total = 0;

	for (guint i = 0; i < n; i++)
		total += stdiolink_json_node_get_number(json_array_get_element(values, i));
	reply_result(reply, total, (gint)n);
}

int
main(int argc, char **argv)
{
	g_autoptr(StdiolinkDriverHelper) helper = NULL;
	g_autoptr(GError) error = NULL;

	helper = stdiolink_driver_helper_new("demo.calculator", "Calculator", "1.0.0");
	stdiolink_driver_helper_set_description(helper, "Arithmetic on numbers");
	stdiolink_driver_helper_set_vendor(helper, "stdiolink demo");
	if (!stdiolink_driver_helper_add_command(helper, add_meta, add_cb, NULL, &error) ||
	    !stdiolink_driver_helper_add_command(helper, subtract_meta, subtract_cb, NULL,
						 &error) ||
	    !stdiolink_driver_helper_add_command(helper, multiply_meta, multiply_cb, NULL,
						 &error) ||
	    !stdiolink_driver_helper_add_command(helper, divide_meta, divide_cb, NULL, &error) ||
	    !stdiolink_driver_helper_add_command(helper, sum_meta, sum_cb, NULL, &error))
		g_error("calculator: %s", error->message);
	return stdiolink_driver_helper_run(helper, argc, argv);
}
