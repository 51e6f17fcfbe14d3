"""The decision log's filter form (GET): what the auditor narrows the log to. The same form
reads the export's query string, so an export holds what the page showed."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from bidrag.models import Call, Decision, Disbursement
from bidrag.roles import Role

from .decision_log import DecisionLogFilter
from .queue_forms import _kommuner

# Who decides or presents: the officers a decision names (MF 21 §).
OFFICER_ROLES = (Role.CASE_OFFICER, Role.DECISION_MAKER)


class DecisionLogForm(forms.Form):
    """Every field optional: an empty form is the whole log. Calls, schemes and officers
    are read in two queries, whatever their number."""

    q = forms.CharField(label=_("Sök i skälen"), required=False, max_length=200,
                        help_text=_("Ord i beslutets skäl, i alla böjningsformer. Citattecken för en fras, "
                                    "minus framför ett ord som inte ska finnas med."))
    fran = forms.DateField(label=_("Beslutsdatum från"), required=False,
                           widget=forms.DateInput(attrs={"type": "date"}))
    till = forms.DateField(label=_("Beslutsdatum till"), required=False,
                           widget=forms.DateInput(attrs={"type": "date"}))
    utlysning = forms.ChoiceField(label=_("Utlysning"), required=False)
    stodform = forms.ChoiceField(label=_("Stödform"), required=False)
    utfall = forms.ChoiceField(label=_("Beslut"), required=False)
    person = forms.ChoiceField(label=_("Beslutsfattare eller föredragande"), required=False)
    lan = forms.ChoiceField(label=_("Län"), required=False)
    belopp_fran = forms.DecimalField(label=_("Beslutat belopp från (kr)"), required=False, min_value=0,
                                     max_digits=14, decimal_places=2)
    belopp_till = forms.DecimalField(label=_("Beslutat belopp till (kr)"), required=False, min_value=0,
                                     max_digits=14, decimal_places=2)

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        everything = [("", _("Alla"))]
        calls = list(Call.objects.select_related("scheme").only("id", "title", "opens_at", "scheme__id",
                                                                 "scheme__name").order_by("-opens_at", "title"))
        schemes = {call.scheme_id: call.scheme.name for call in calls}
        officers = (
            get_user_model().objects.filter(pk__in=Group.objects.filter(name__in=OFFICER_ROLES).values("user"))
            .only("id", "username", "first_name", "last_name").order_by("last_name", "first_name", "username")
        )
        self.fields["utlysning"].choices = everything + [(str(c.pk), c.title) for c in calls]
        self.fields["stodform"].choices = everything + [(str(pk), name) for pk, name in schemes.items()]
        self.fields["utfall"].choices = everything + list(Decision.Outcome.choices)
        self.fields["person"].choices = everything + [
            (str(u.pk), u.get_full_name() or u.get_username()) for u in officers
        ]
        self.fields["lan"].choices = everything + list(_kommuner()[0])

    def clean(self):
        cleaned = super().clean()
        low, high = cleaned.get("belopp_fran"), cleaned.get("belopp_till")
        if low is not None and high is not None and low > high:
            self.add_error("belopp_till", _("Beloppet till får inte vara lägre än beloppet från."))
        first, last = cleaned.get("fran"), cleaned.get("till")
        if first and last and first > last:
            self.add_error("till", _("Datumet till får inte vara före datumet från."))
        return cleaned

    def _valid(self) -> dict:
        data = self.cleaned_data if self.is_bound and hasattr(self, "cleaned_data") else {}
        return {name: value for name, value in data.items() if name not in self.errors}

    def log_filter(self) -> DecisionLogFilter:
        """The filter the valid fields ask for; an invalid field filters nothing (it is shown
        with its error)."""
        valid = self._valid()
        scheme, person = valid.get("stodform") or "", valid.get("person") or ""
        return DecisionLogFilter(
            decided_from=valid.get("fran"),
            decided_to=valid.get("till"),
            call_id=valid.get("utlysning") or None,
            scheme_id=int(scheme) if scheme.isdigit() else None,
            outcome=valid.get("utfall") or "",
            officer_id=int(person) if person.isdigit() else None,
            county=valid.get("lan") or "",
            amount_min=valid.get("belopp_fran"),
            amount_max=valid.get("belopp_till"),
            query=(valid.get("q") or "").strip(),
        )

    def as_params(self) -> dict[str, str]:
        """The valid filters as the query string gave them, for the export's record and links."""
        valid = self._valid()
        return {name: str(self.data.get(name)) for name, value in valid.items() if value not in (None, "")}

    @property
    def filtered(self) -> bool:
        return any(self.data.get(name) for name in self.fields)


class DisbursementExportForm(forms.Form):
    """The disbursement export's one filter: the state."""

    status = forms.ChoiceField(label=_("Utbetalningens status"), required=False,
                               choices=[("", _("Alla"))] + list(Disbursement.Status.choices))

    def status_value(self) -> str:
        return self.cleaned_data.get("status", "") if self.is_valid() else ""

    def as_params(self) -> dict[str, str]:
        status = self.status_value()
        return {"status": status} if status else {}
