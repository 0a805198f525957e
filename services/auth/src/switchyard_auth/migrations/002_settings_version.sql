-- Every change of a key's settings gets a new version from one sequence (so a key deleted and
-- created again never reuses one). Identity events and principals carry it; the budget service
-- applies a limit only over an older version of it, whichever of the two reaches it first.
CREATE SEQUENCE key_settings_version;
ALTER TABLE keys ADD COLUMN settings_version bigint NOT NULL DEFAULT nextval('key_settings_version');
