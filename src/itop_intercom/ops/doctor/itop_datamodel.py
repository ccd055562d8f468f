"""Step 6, datamodel and link store: the ticket class, the mapped and form attributes, and
whether the extension's `intercom_*` fields hold the links."""

from __future__ import annotations

import asyncio

from itop_intercom.itop.errors import (
    CODE_INTERNAL_ERROR,
    ItopApiError,
    ItopAuthError,
    ItopError,
    readable,
)
from itop_intercom.itop.probes import probe_class
from itop_intercom.ops.doctor.itop_context import ItopContext
from itop_intercom.ops.doctor.result import CheckResult
from itop_intercom.ops.doctor.texts import (
    PROBE_CONCURRENCY,
    is_code,
    itop_error_text,
    names,
    unique,
)

#: The logical names whose attributes hold the links when the extension's datamodel is installed.
INTERCOM_FIELDS = ("intercom_ref", "intercom_url", "intercom_sync_activated")


class DatamodelChecks(ItopContext):
    async def _check_ticket_class(self) -> bool:
        cls = self.ticket_class
        if not is_code(cls):
            self.out.append(
                CheckResult(
                    "6",
                    f"The ticket class {cls!r} is not a class name (ticket.class)",
                    "fail",
                    "Class names have only letters, digits and underscores.",
                    "Set ticket.class to an iTop class such as UserRequest.",
                    key="itop.unknown_class",
                )
            )
            return False
        try:
            await self._call(probe_class(self.client, cls))
        except ItopAuthError as exc:
            self.out.append(
                CheckResult(
                    "6",
                    f"The token user cannot read {cls} tickets",
                    "fail",
                    f"iTop answers: “{readable(exc.message)}”.",
                    f"Give the token-based user a profile that can read and write {cls} "
                    "(Administrator does).",
                    key="itop.class_denied",
                )
            )
            return False
        except ItopApiError as exc:
            if exc.code == CODE_INTERNAL_ERROR:
                self.out.append(
                    CheckResult(
                        "6",
                        f"The ticket class {cls} does not exist in iTop (ticket.class)",
                        "fail",
                        f"iTop answers: “{readable(exc.message)}”.",
                        "Set ticket.class to the class of the tickets to create, as named in "
                        "iTop's data model (Configuration › Data model), e.g. UserRequest.",
                        key="itop.unknown_class",
                    )
                )
            else:
                self.out.append(self._probe_failed(exc))
            return False
        except ItopError as exc:
            self.out.append(self._probe_failed(exc))
            return False
        self.out.append(
            CheckResult("6", f"The ticket class {cls} exists", "ok", key="itop.class_ok")
        )
        return True

    def _probe_failed(self, exc: ItopError) -> CheckResult:
        return CheckResult(
            "6",
            f"Could not check the ticket class {self.ticket_class}",
            "warn",
            itop_error_text(exc),
            "Run check again; if it persists, check iTop's error log.",
            key="itop.class_unknown_error",
        )

    async def _check_attributes(self) -> None:
        s = self.settings
        mapping = s.ticket.attributes_mapping
        groups: list[tuple[str, str, list[str]]] = [
            (
                "mapping",
                "ticket.attributes_mapping",
                [code for name, code in mapping.items() if name not in INTERCOM_FIELDS],
            ),
            ("form", "create_ticket.form_attributes", list(s.create_ticket.form_attributes)),
            ("subtitle", "search_ticket.subtitle_attribute", [s.search_ticket.subtitle_attribute]),
            ("details", "view_ticket.details_attributes", list(s.view_ticket.details_attributes)),
        ]
        intercom_codes = [mapping[name] for name in INTERCOM_FIELDS]
        required = unique(code for _, _, codes in groups for code in codes)
        found_required, found_intercom = await asyncio.gather(
            self._existing(required), self._existing(intercom_codes)
        )
        if found_required is None or found_intercom is None:
            self.out.append(
                CheckResult(
                    "6",
                    f"Could not check the attributes of {self.ticket_class}",
                    "warn",
                    "iTop did not answer the attribute probes as expected.",
                    "Run check again; if it persists, check iTop's error log.",
                    key="itop.attributes_unknown_error",
                )
            )
            return
        cls = self.ticket_class
        for kind, setting, codes in groups:
            missing = [code for code in unique(codes) if code not in found_required]
            if kind == "mapping":
                if missing:
                    wrong = ", ".join(
                        f"{name} → {code}"
                        for name, code in mapping.items()
                        if code in missing and name not in INTERCOM_FIELDS
                    )
                    self.out.append(
                        CheckResult(
                            "6",
                            f"{cls} has no attribute {names(missing)} (ticket.attributes_mapping)",
                            "fail",
                            f"The mapping says {wrong}, but iTop's {cls} has no such attribute, "
                            "so iTop would refuse every ticket the service reads or writes.",
                            "In ticket.attributes_mapping, give each logical name the code of an "
                            f"existing attribute of {cls} (see Configuration › Data model in "
                            "iTop), or remove the entry to use the default.",
                            key="itop.mapping_missing",
                        )
                    )
                else:
                    self.out.append(
                        CheckResult(
                            "6",
                            f"The mapped attributes exist on {cls} ({names(codes)})",
                            "ok",
                            key="itop.mapping_ok",
                        )
                    )
            elif missing:
                self.out.append(
                    CheckResult(
                        "6",
                        f"{cls} has no attribute {names(missing)} ({setting})",
                        "fail",
                        f"{setting} names attributes that iTop's {cls} does not have; the "
                        "Inbox screens that show them would fail.",
                        f"Remove {names(missing)} from {setting} or replace them with existing "
                        f"attribute codes of {cls} (see Configuration › Data model in iTop).",
                        key=f"itop.{kind}_attributes_missing",
                    )
                )
            else:
                self.out.append(
                    CheckResult(
                        "6",
                        f"The attributes of {setting} exist on {cls}",
                        "ok",
                        key=f"itop.{kind}_attributes_ok",
                    )
                )
        present = [code for code in intercom_codes if code in found_intercom]
        if len(present) == len(intercom_codes):
            self.out.append(
                CheckResult(
                    "6",
                    "Links kept in iTop (extension datamodel installed)",
                    "ok",
                    f"{cls} has {names(intercom_codes)}: conversation links and sync flags are "
                    "stored on the tickets, as with the PHP extension.",
                    key="itop.link_store_itop",
                )
            )
        elif not present:
            self.out.append(
                CheckResult(
                    "6",
                    "Links kept in the service database",
                    "ok",
                    f"{cls} has no {names(intercom_codes)} attributes (the PHP extension's "
                    "datamodel is not installed). That is fine: conversation links and sync "
                    "flags are kept in the service's own database.",
                    key="itop.link_store_local",
                )
            )
        else:
            missing = [code for code in intercom_codes if code not in found_intercom]
            self.out.append(
                CheckResult(
                    "6",
                    "Links kept in the service database (the extension's fields are incomplete)",
                    "warn",
                    f"{cls} has {names(present)} but not {names(missing)}, so the links "
                    "cannot be kept in iTop and the service keeps them in its own database.",
                    "Either install the extension's datamodel completely, or correct the "
                    "intercom_* entries of ticket.attributes_mapping.",
                    key="itop.link_store_partial",
                )
            )

    async def _existing(self, codes: list[str]) -> set[str] | None:
        """Which of `codes` are attributes of the ticket class (None when iTop misbehaves).

        iTop checks `output_fields` even when nothing matches, and names only the first bad
        code in its refusal, so the whole list is tried once and, when refused, each code
        alone.
        """
        valid = [code for code in codes if is_code(code)]
        if not valid:
            return set()
        if len(valid) == len(codes):
            outcome = await self._probe(valid)
            if outcome is None:
                return None
            if outcome:
                return set(valid)
            if len(valid) == 1:
                return set()
        semaphore = asyncio.Semaphore(PROBE_CONCURRENCY)

        async def one(code: str) -> bool | None:
            async with semaphore:
                return await self._probe([code])

        outcomes = await asyncio.gather(*(one(code) for code in valid))
        if any(o is None for o in outcomes):
            return None
        return {code for code, ok in zip(valid, outcomes, strict=True) if ok}

    async def _probe(self, codes: list[str]) -> bool | None:
        cls = self.ticket_class
        try:
            await self._call(probe_class(self.client, cls, ["id", *codes]))
        except ItopApiError as exc:
            return False if exc.code == CODE_INTERNAL_ERROR else None
        except ItopError:
            return None
        return True
