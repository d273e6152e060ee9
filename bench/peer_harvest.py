"""ckanext-harvest's own CKAN harvester, one job run in this process without queues.

    python -m bench.peer_harvest CKAN_INI SOURCE_URL [--organization mainz]

What ckanext-harvest's queue consumers would do, in order: create the harvest
source (once) and a job, then call the harvester's ``gather_stage`` and, for
each harvest object, ``fetch_stage`` and ``import_stage`` through
``ckanext.harvest.queue.gather_stage`` / ``fetch_and_import_stages`` (the
functions the consumers call), and mark the job finished as
``harvest_jobs_run`` does — so the next job's gather asks the source only for
datasets modified since. Prints one JSON line with the objects' outcomes.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import json
import logging
import sys


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.peer_harvest")
    parser.add_argument("ini")
    parser.add_argument("source_url")
    parser.add_argument("--organization", default="mainz")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    from ckan.cli import CKANConfigLoader
    from ckan.config.middleware import make_app

    app = make_app(CKANConfigLoader(args.ini).get_config())
    import ckan.plugins.toolkit as tk
    from ckan import model
    from ckanext.harvest import queue
    from ckanext.harvest.harvesters.ckanharvester import CKANHarvester
    from ckanext.harvest.model import HarvestJob, HarvestObject, HarvestSource

    with app._wsgi_app.test_request_context():
        site_user = tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]
        context = {"model": model, "session": model.Session, "user": site_user, "ignore_auth": True}
        source = (
            model.Session.query(HarvestSource).filter_by(url=args.source_url, active=True).first()
        )
        if source is None:
            created = tk.get_action("harvest_source_create")(
                dict(context),
                {
                    "name": "bench-ckan-source",
                    "title": "Bench: synthetic city CKAN",
                    "url": args.source_url,
                    "source_type": "ckan",
                    "owner_org": args.organization,
                    "frequency": "MANUAL",
                    "config": json.dumps({"organizations_filter_include": ["stadt_mainz"]}),
                },
            )
            source = HarvestSource.get(created["id"])
        job = HarvestJob(source=source)
        job.status = "Running"
        job.save()
        harvester = CKANHarvester()
        object_ids = queue.gather_stage(harvester, job)
        if not isinstance(object_ids, list):
            object_ids = []
        outcomes: collections.Counter = collections.Counter()
        errors = []
        for object_id in object_ids:
            harvest_object = HarvestObject.get(object_id)
            queue.fetch_and_import_stages(harvester, harvest_object)
            outcomes[harvest_object.report_status or harvest_object.state] += 1
            if harvest_object.state == "ERROR" and len(errors) < 5:
                errors.append([e.message[:300] for e in harvest_object.errors])
        job.status = "Finished"
        # as harvest_jobs_run does: ckanext-harvest's columns hold naive UTC times
        job.finished = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
        job.save()
        gather_errors = [e.message[:300] for e in job.gather_errors]
    print(
        json.dumps(
            {
                "objects": len(object_ids),
                "outcomes": dict(outcomes),
                "errors": errors,
                "gather_errors": gather_errors,
            }
        )
    )
    sys.exit(1 if errors or gather_errors else 0)


if __name__ == "__main__":
    main()
