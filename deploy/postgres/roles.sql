-- The application's database role: it reads and writes every table but owns none, so it
-- can neither switch off nor drop a trigger, nor drop or truncate a table; on the audit
-- trail, the seals of its hash chain and its verifications it may only read and insert.
-- Migrations run as the owner of the database.
--
-- Run it in the application's database as a superuser (or as a member of the owner role
-- with CREATEROLE), before the first migration and again whenever you like: it changes
-- nothing the second time.
--
--   psql -v ON_ERROR_STOP=1 -d custapproval -f deploy/postgres/roles.sql
--
-- The application's role is custapproval_app and the owner is the owner of the database,
-- unless the session names others (SET custapproval.app_role = ..., or for psql:
--
--   PGOPTIONS='-c custapproval.app_role=app -c custapproval.owner_role=owner' psql ...).
--
-- It sets no password: give one with psql's \password custapproval_app.

DO $roles$
DECLARE
    app text := coalesce(
        nullif(current_setting('custapproval.app_role', true), ''), 'custapproval_app'
    );
    owner text := coalesce(
        nullif(current_setting('custapproval.owner_role', true), ''),
        (SELECT pg_get_userbyid(datdba) FROM pg_database
         WHERE datname = current_database())
    );
    -- The audit trail, the seals of its hash chain and the record of its verifications.
    append_only text[] := ARRAY[
        'workflow_auditentry', 'workflow_auditseal', 'workflow_auditverification'
    ];
    guarded regclass;
BEGIN
    IF app = owner THEN
        RAISE EXCEPTION 'the application role must not be the owner (%)', owner;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = app) THEN
        EXECUTE format(
            'CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION '
            'NOBYPASSRLS',
            app
        );
    END IF;
    -- An existing role is checked, not altered: only a superuser may alter these.
    IF EXISTS (
        SELECT FROM pg_roles WHERE rolname = app
        AND (rolsuper OR rolcreatedb OR rolcreaterole OR rolreplication OR rolbypassrls)
    ) THEN
        RAISE EXCEPTION 'role % may do more than the application needs', app
            USING HINT = 'ALTER ROLE ' || quote_ident(app)
                || ' NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS';
    END IF;
    IF pg_has_role(app, owner, 'MEMBER') THEN
        RAISE EXCEPTION 'role % is a member of the owner %', app, owner
            USING HINT = format('REVOKE %I FROM %I', owner, app);
    END IF;
    IF EXISTS (
        SELECT FROM pg_shdepend
        WHERE refclassid = 'pg_authid'::regclass AND deptype = 'o'
          AND refobjid = (SELECT oid FROM pg_roles WHERE rolname = app)
    ) THEN
        RAISE EXCEPTION 'role % owns database objects', app
            USING HINT = format(
                'REASSIGN OWNED BY %I TO %I in each database it owns objects in',
                app, owner
            );
    END IF;

    EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), app);
    EXECUTE format('GRANT USAGE ON SCHEMA public TO %I', app);
    EXECUTE format(
        'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO %I', app
    );
    EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO %I', app);
    -- Tables and sequences the owner creates later (each new migration) are the app's too.
    EXECUTE format(
        'ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public '
        'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %I',
        owner, app
    );
    EXECUTE format(
        'ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public '
        'GRANT USAGE, SELECT ON SEQUENCES TO %I',
        owner, app
    );
    -- The audit trail, its seals and verifications: read and insert only. A trigger
    -- refuses the rest to everyone; this stops the application at the door. The
    -- migrations that install the triggers do the same for grants made before them
    -- (default privileges).
    FOR i IN 1 .. array_length(append_only, 1) LOOP
        guarded := to_regclass('public.' || append_only[i]);
        IF guarded IS NOT NULL THEN
            EXECUTE format(
                'REVOKE UPDATE, DELETE, TRUNCATE ON %s FROM %I CASCADE', guarded, app
            );
        END IF;
    END LOOP;

    -- PostgreSQL 14 and older let everyone create tables in public; the owner still may.
    IF has_schema_privilege(app, 'public', 'CREATE') THEN
        EXECUTE format('GRANT USAGE, CREATE ON SCHEMA public TO %I', owner);
        REVOKE CREATE ON SCHEMA public FROM PUBLIC;
    END IF;
    IF has_schema_privilege(app, 'public', 'CREATE')
        OR has_database_privilege(app, current_database(), 'CREATE')
    THEN
        RAISE EXCEPTION 'role % may create objects in database %', app, current_database()
            USING HINT = 'revoke CREATE on the database and on schema public from it';
    END IF;
END
$roles$;
