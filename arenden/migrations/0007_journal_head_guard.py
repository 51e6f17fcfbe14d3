from django.db import migrations

# The case's journal head (journal_seq, journal_head) moves one event at a time, onto an
# event that exists and follows the old head: an UPDATE that cuts the chain's end back or
# points the head anywhere else is refused, as UPDATE and DELETE on the events are. Only
# a role that may disable triggers (the tables' owner, a superuser) gets past it.
PG_FORWARD = """
CREATE OR REPLACE FUNCTION bidrag_journal_head_guard() RETURNS trigger AS $$
BEGIN
    IF NEW.journal_seq IS NOT DISTINCT FROM OLD.journal_seq
       AND NEW.journal_head IS NOT DISTINCT FROM OLD.journal_head THEN
        RETURN NEW;
    END IF;
    IF NEW.journal_seq = OLD.journal_seq + 1 AND EXISTS (
        SELECT 1 FROM arenden_journalevent e
        WHERE e.case_id = NEW.id AND e.seq = NEW.journal_seq
          AND e.hash = NEW.journal_head AND e.prev_hash = OLD.journal_head
    ) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'arenden_case: the journal head moves only onto the next appended event (case %, event % to %)',
        OLD.id, OLD.journal_seq, NEW.journal_seq
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER arenden_case_journal_head BEFORE UPDATE OF journal_seq, journal_head ON arenden_case
    FOR EACH ROW EXECUTE FUNCTION bidrag_journal_head_guard();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS arenden_case_journal_head ON arenden_case;
DROP FUNCTION IF EXISTS bidrag_journal_head_guard();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)  # no %-placeholders: RAISE uses %


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("arenden", "0006_journal_checkpoint")]

    operations = [migrations.RunPython(forward, backward)]
