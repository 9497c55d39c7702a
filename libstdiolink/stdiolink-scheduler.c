#include "config.h"

#include "stdiolink-error.h"
#include "stdiolink-json.h"
#include "stdiolink-scheduler.h"

/*
 * Starts instances by themselves (scheduling.md 4): fixed_rate projects on a periodic
 * timer, daemon projects at once and again after an abnormal exit, until too many
 * failures in a row suppress them. Everything runs on the main loop: timers are
 * g_timeout_add() sources whose ids are kept, so every path that changes a project's
 * scheduling can cancel them.
 *
 * Each project has an entry holding a copy of the project as it was when it was last
 * armed (the "snapshot"): ticks, restarts and exit handling consult that copy, never the
 * engine's current object, and only the project that changed is re-armed.
 */

struct _StdiolinkScheduler {
	GObject parent_instance;

	StdiolinkInstanceManager *instances;
	StdiolinkEventBus *bus;
	StdiolinkSchedulerStartFunc start;
	gpointer start_data;
	gulong finished_handler;

	GHashTable *entries; /* project id -> Entry */
	gboolean shutting_down;
};

G_DEFINE_FINAL_TYPE(StdiolinkScheduler, stdiolink_scheduler, G_TYPE_OBJECT)

typedef struct {
	StdiolinkScheduler *owner; /* not a reference: entries die with their scheduler */
	char *id;
	StdiolinkProject *snapshot; /* nullable: stopped before it was ever armed */
	gboolean service_loaded;
	guint tick_id;	     /* fixed_rate timer */
	gint64 next_tick_us; /* monotonic time the next tick is due */
	guint restart_id;    /* daemon restart delay */
	gboolean suppressed;
	guint failures;
} Entry;

static void
cancel_timers(Entry *e)
{
	g_clear_handle_id(&e->tick_id, g_source_remove);
	g_clear_handle_id(&e->restart_id, g_source_remove);
}

static void
entry_free(Entry *e)
{
	cancel_timers(e);
	g_clear_object(&e->snapshot);
	g_free(e->id);
	g_free(e);
}

static Entry *
lookup_entry(StdiolinkScheduler *self, const char *id)
{
	return id != NULL ? g_hash_table_lookup(self->entries, id) : NULL;
}

/* a stop may come for a project that was never armed (reload of a new folder) */
static Entry *
ensure_entry(StdiolinkScheduler *self, const char *id)
{
	Entry *e = lookup_entry(self, id);

	if (e != NULL)
		return e;
	e = g_new0(Entry, 1);
	e->owner = self;
	e->id = g_strdup(id);
	g_hash_table_insert(self->entries, e->id, e);
	return e;
}

static const StdiolinkSchedule *
schedule_of(Entry *e)
{
	return stdiolink_project_get_schedule(e->snapshot);
}

/* what the snapshot says: enabled, valid, its service loaded, and of @type */
static gboolean
is_schedulable(Entry *e, StdiolinkScheduleType type)
{
	return e->snapshot != NULL && e->service_loaded &&
	       stdiolink_project_get_enabled(e->snapshot) &&
	       stdiolink_project_get_valid(e->snapshot) && schedule_of(e)->type == type;
}

static guint
count_live(StdiolinkScheduler *self, Entry *e)
{
	return stdiolink_instance_manager_count_live(self->instances, e->id);
}

/* schedule.triggered goes out before the attempt, so a failed start still shows it */
static void
launch(StdiolinkScheduler *self, Entry *e)
{
	const char *type = stdiolink_schedule_type_to_string(schedule_of(e)->type);
	JsonObject *data = json_object_new();
	g_autoptr(GError) error = NULL;

	json_object_set_string_member(data, "projectId", e->id);
	json_object_set_string_member(data, "scheduleType", type);
	stdiolink_event_bus_publish(self->bus, "schedule.triggered", data);

	g_debug("project %s: %s start", e->id, type);
	if (!self->start(e->snapshot, self->start_data, &error))
		g_warning("project %s: scheduled start failed: %s", e->id, error->message);
}

static void
start_daemon(StdiolinkScheduler *self, Entry *e)
{
	if (self->shutting_down || e->suppressed || count_live(self, e) > 0)
		return;
	launch(self, e);
}

/* ---- fixed_rate --------------------------------------------------------------------- */

static gboolean tick_cb(gpointer user_data);

/*
 * Ticks keep the cadence of the moment the timer was armed; ticks missed while the loop
 * was busy are skipped, not caught up.
 */
static void
arm_tick(Entry *e)
{
	gint64 interval_us = (gint64)schedule_of(e)->interval_ms * 1000;
	gint64 now = g_get_monotonic_time();

	if (e->next_tick_us <= now)
		e->next_tick_us += ((now - e->next_tick_us) / interval_us + 1) * interval_us;
	e->tick_id = g_timeout_add((guint)((e->next_tick_us - now + 999) / 1000), tick_cb, e);
}

static gboolean
tick_cb(gpointer user_data)
{
	Entry *e = user_data;
	StdiolinkScheduler *self = e->owner;

	e->tick_id = 0;
	if (self->shutting_down || !is_schedulable(e, STDIOLINK_SCHEDULE_FIXED_RATE))
		return G_SOURCE_REMOVE;
	arm_tick(e);

	/* a full project skips the tick silently; the next one tries again */
	if (count_live(self, e) < (guint)schedule_of(e)->max_concurrent)
		launch(self, e);
	return G_SOURCE_REMOVE;
}

/* ---- daemon ------------------------------------------------------------------------- */

static gboolean
restart_cb(gpointer user_data)
{
	Entry *e = user_data;

	e->restart_id = 0;
	if (is_schedulable(e, STDIOLINK_SCHEDULE_DAEMON))
		start_daemon(e->owner, e);
	return G_SOURCE_REMOVE;
}

static void
publish_suppressed(StdiolinkScheduler *self, Entry *e)
{
	JsonObject *data = json_object_new();

	json_object_set_string_member(data, "projectId", e->id);
	json_object_set_string_member(data, "reason", "crash_loop");
	json_object_set_int_member(data, "consecutiveFailures", e->failures);
	stdiolink_event_bus_publish(self->bus, "schedule.suppressed", data);
}

/* runs before instance.finished is published, so schedule.suppressed comes first */
static void
on_instance_finished(StdiolinkInstanceManager *m,
		     StdiolinkInstance *inst,
		     gint exit_code,
		     const char *status,
		     gpointer user_data)
{
	StdiolinkScheduler *self = user_data;
	Entry *e = lookup_entry(self, stdiolink_instance_get_project_id(inst));
	const StdiolinkSchedule *schedule;

	if (self->shutting_down || e == NULL || e->suppressed ||
	    !is_schedulable(e, STDIOLINK_SCHEDULE_DAEMON))
		return;
	schedule = schedule_of(e);

	/* a daemon that ends cleanly stays down */
	if (g_strcmp0(status, "normal") == 0 && exit_code == 0) {
		e->failures = 0;
		return;
	}

	e->failures++;
	if (e->failures >= (guint)schedule->max_consecutive_failures) {
		e->suppressed = TRUE;
		g_warning("project %s: %u failures in a row, not restarting it", e->id,
			  e->failures);
		publish_suppressed(self, e);
		return;
	}
	g_clear_handle_id(&e->restart_id, g_source_remove);
	e->restart_id = g_timeout_add((guint)schedule->restart_delay_ms, restart_cb, e);
}

/* ---- object ------------------------------------------------------------------------- */

static void
stdiolink_scheduler_dispose(GObject *object)
{
	StdiolinkScheduler *self = STDIOLINK_SCHEDULER(object);

	if (self->instances != NULL)
		g_clear_signal_handler(&self->finished_handler, self->instances);
	if (self->entries != NULL)
		g_hash_table_remove_all(self->entries);
	g_clear_object(&self->instances);
	g_clear_object(&self->bus);
	G_OBJECT_CLASS(stdiolink_scheduler_parent_class)->dispose(object);
}

static void
stdiolink_scheduler_finalize(GObject *object)
{
	StdiolinkScheduler *self = STDIOLINK_SCHEDULER(object);

	g_hash_table_unref(self->entries);
	G_OBJECT_CLASS(stdiolink_scheduler_parent_class)->finalize(object);
}

static void
stdiolink_scheduler_class_init(StdiolinkSchedulerClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->dispose = stdiolink_scheduler_dispose;
	object_class->finalize = stdiolink_scheduler_finalize;
}

static void
stdiolink_scheduler_init(StdiolinkScheduler *self)
{
	/* the entry owns its id, which is also the key */
	self->entries = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
					      (GDestroyNotify)entry_free);
}

/**
 * stdiolink_scheduler_new: (skip)
 * @instances: the instance manager whose exits drive daemon restarts
 * @bus: where `schedule.triggered` and `schedule.suppressed` are published
 * @start: starts one instance of a project
 * @start_data: for @start; must outlive the scheduler
 *
 * Returns: (transfer full): a scheduler with nothing armed
 */
StdiolinkScheduler *
stdiolink_scheduler_new(StdiolinkInstanceManager *instances,
			StdiolinkEventBus *bus,
			StdiolinkSchedulerStartFunc start,
			gpointer start_data)
{
	StdiolinkScheduler *self;

	g_return_val_if_fail(STDIOLINK_IS_INSTANCE_MANAGER(instances), NULL);
	g_return_val_if_fail(STDIOLINK_IS_EVENT_BUS(bus), NULL);
	g_return_val_if_fail(start != NULL, NULL);

	self = g_object_new(STDIOLINK_TYPE_SCHEDULER, NULL);
	self->instances = g_object_ref(instances);
	self->bus = g_object_ref(bus);
	self->start = start;
	self->start_data = start_data;
	self->finished_handler = g_signal_connect(instances, "instance-finished",
						  G_CALLBACK(on_instance_finished), self);
	return self;
}

/**
 * stdiolink_scheduler_start_project:
 * @s: a scheduler
 * @project: the project as it is now; a copy is kept
 * @service_loaded: whether the project's service is loaded
 *
 * (Re-)arms one project (scheduling.md 4.2 startProject): its copy is replaced, its timers
 * cancelled, its suppression and failure counter cleared; then, unless the scheduler is
 * shutting down or the project is disabled, invalid or without its service, a fixed_rate
 * timer is armed (first tick one interval from now) or a daemon without a live instance is
 * started at once. Other projects are not touched.
 */
void
stdiolink_scheduler_start_project(StdiolinkScheduler *s,
				  StdiolinkProject *project,
				  gboolean service_loaded)
{
	Entry *e;

	g_return_if_fail(STDIOLINK_IS_SCHEDULER(s));
	g_return_if_fail(STDIOLINK_IS_PROJECT(project));

	e = ensure_entry(s, stdiolink_project_get_id(project));
	g_clear_object(&e->snapshot);
	e->snapshot = stdiolink_project_copy(project);
	e->service_loaded = service_loaded;
	cancel_timers(e);
	e->suppressed = FALSE;
	e->failures = 0;

	if (s->shutting_down)
		return;
	if (is_schedulable(e, STDIOLINK_SCHEDULE_FIXED_RATE)) {
		gint64 interval_us = (gint64)schedule_of(e)->interval_ms * 1000;

		e->next_tick_us = g_get_monotonic_time() + interval_us;
		arm_tick(e);
	} else if (is_schedulable(e, STDIOLINK_SCHEDULE_DAEMON)) {
		start_daemon(s, e);
	}
}

/**
 * stdiolink_scheduler_stop_project:
 * @s: a scheduler
 * @project_id: a project id
 *
 * scheduling.md 4.2 stopProject: cancels the project's timer and any pending daemon
 * restart, marks it restart-suppressed and clears its failure counter. Its instances are
 * left to the caller.
 */
void
stdiolink_scheduler_stop_project(StdiolinkScheduler *s, const char *project_id)
{
	Entry *e;

	g_return_if_fail(STDIOLINK_IS_SCHEDULER(s));
	g_return_if_fail(project_id != NULL);

	e = ensure_entry(s, project_id);
	cancel_timers(e);
	e->suppressed = TRUE;
	e->failures = 0;
}

/**
 * stdiolink_scheduler_resume_project:
 * @s: a scheduler
 * @project_id: a project id
 *
 * scheduling.md 4.2 resumeProject, before a manual start: lifts the suppression and clears
 * the failure counter. A stopped fixed_rate timer stays off.
 */
void
stdiolink_scheduler_resume_project(StdiolinkScheduler *s, const char *project_id)
{
	Entry *e;

	g_return_if_fail(STDIOLINK_IS_SCHEDULER(s));

	e = lookup_entry(s, project_id);
	if (e == NULL)
		return;
	e->suppressed = FALSE;
	e->failures = 0;
}

/**
 * stdiolink_scheduler_remove_project:
 * @s: a scheduler
 * @project_id: a project id
 *
 * Forgets a deleted project: its timers are cancelled and its state dropped.
 */
void
stdiolink_scheduler_remove_project(StdiolinkScheduler *s, const char *project_id)
{
	g_return_if_fail(STDIOLINK_IS_SCHEDULER(s));
	g_return_if_fail(project_id != NULL);

	g_hash_table_remove(s->entries, project_id);
}

/**
 * stdiolink_scheduler_shutdown:
 * @s: a scheduler
 *
 * First step of the daemon's shutdown (scheduling.md 8): sets shutting-down for good, so
 * no tick, restart or exit starts anything again, and cancels every timer.
 */
void
stdiolink_scheduler_shutdown(StdiolinkScheduler *s)
{
	GHashTableIter iter;
	gpointer value;

	g_return_if_fail(STDIOLINK_IS_SCHEDULER(s));

	s->shutting_down = TRUE;
	g_hash_table_iter_init(&iter, s->entries);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		Entry *e = value;

		cancel_timers(e);
		e->suppressed = FALSE;
		e->failures = 0;
	}
}

/**
 * stdiolink_scheduler_is_shutting_down:
 * @s: a scheduler
 *
 * Returns: %TRUE once stdiolink_scheduler_shutdown() was called
 */
gboolean
stdiolink_scheduler_is_shutting_down(StdiolinkScheduler *s)
{
	g_return_val_if_fail(STDIOLINK_IS_SCHEDULER(s), FALSE);
	return s->shutting_down;
}

/**
 * stdiolink_scheduler_is_timer_active:
 * @s: a scheduler
 * @project_id: a project id
 *
 * Returns: %TRUE if the project has a fixed_rate timer
 */
gboolean
stdiolink_scheduler_is_timer_active(StdiolinkScheduler *s, const char *project_id)
{
	Entry *e;

	g_return_val_if_fail(STDIOLINK_IS_SCHEDULER(s), FALSE);
	e = lookup_entry(s, project_id);
	return e != NULL && e->tick_id != 0;
}

/**
 * stdiolink_scheduler_is_restart_suppressed:
 * @s: a scheduler
 * @project_id: a project id
 *
 * Returns: %TRUE if the project was stopped or crash-looped and not started since
 */
gboolean
stdiolink_scheduler_is_restart_suppressed(StdiolinkScheduler *s, const char *project_id)
{
	Entry *e;

	g_return_val_if_fail(STDIOLINK_IS_SCHEDULER(s), FALSE);
	e = lookup_entry(s, project_id);
	return e != NULL && e->suppressed;
}

/**
 * stdiolink_scheduler_get_consecutive_failures:
 * @s: a scheduler
 * @project_id: a project id
 *
 * Returns: the daemon failure counter, 0 if none
 */
guint
stdiolink_scheduler_get_consecutive_failures(StdiolinkScheduler *s, const char *project_id)
{
	Entry *e;

	g_return_val_if_fail(STDIOLINK_IS_SCHEDULER(s), 0);
	e = lookup_entry(s, project_id);
	return e != NULL ? e->failures : 0;
}

/**
 * stdiolink_scheduler_runtime_to_json:
 * @s: a scheduler
 * @project: the project as it is now
 *
 * The `schedule` member of RuntimeJSON (http-api.md 1.5): `type`, `timerActive`,
 * `restartSuppressed`, `consecutiveFailures`, `shuttingDown` and `autoRestarting`, which
 * is computed from @project, not from the scheduler's copy.
 *
 * Returns: (transfer full): a JSON object node
 */
JsonNode *
stdiolink_scheduler_runtime_to_json(StdiolinkScheduler *s, StdiolinkProject *project)
{
	const char *id;
	StdiolinkScheduleType type;
	gboolean suppressed;
	JsonObject *obj;

	g_return_val_if_fail(STDIOLINK_IS_SCHEDULER(s), NULL);
	g_return_val_if_fail(STDIOLINK_IS_PROJECT(project), NULL);

	id = stdiolink_project_get_id(project);
	type = stdiolink_project_get_schedule(project)->type;
	suppressed = stdiolink_scheduler_is_restart_suppressed(s, id);

	obj = json_object_new();
	json_object_set_string_member(obj, "type", stdiolink_schedule_type_to_string(type));
	json_object_set_boolean_member(obj, "timerActive",
				       stdiolink_scheduler_is_timer_active(s, id));
	json_object_set_boolean_member(obj, "restartSuppressed", suppressed);
	json_object_set_int_member(obj, "consecutiveFailures",
				   stdiolink_scheduler_get_consecutive_failures(s, id));
	json_object_set_boolean_member(obj, "shuttingDown", s->shutting_down);
	json_object_set_boolean_member(obj, "autoRestarting",
				       type == STDIOLINK_SCHEDULE_DAEMON &&
					   stdiolink_project_get_enabled(project) &&
					   stdiolink_project_get_valid(project) &&
					   !s->shutting_down && !suppressed);
	return stdiolink_json_node_new_object(obj);
}
