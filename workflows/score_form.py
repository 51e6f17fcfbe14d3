"""The assessor's form: one score and one written reason per criterion of the scheme, on the
call's scale; the assessor's own earlier scores filled in (they may change them until the
decision proposal)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from bidrag.models import Assessment
from bidrag.models.assessment import criteria_of


class ScoreForm(forms.Form):
    needs_application = True
    needs_actor = True

    def __init__(self, *args, application, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        scale = application.call.score_scale_max
        self.criteria = criteria_of(application.call)
        earlier = {}
        if actor is not None and not self.is_bound:
            mine = Assessment.objects.filter(application=application, assessor_id=actor.pk).first()
            earlier = {s.criterion: s for s in mine.scores.all()} if mine else {}
        for criterion in self.criteria:
            code, before = criterion["code"], earlier.get(criterion["code"])
            self.fields[f"score_{code}"] = forms.TypedChoiceField(
                label=_("%(criterion)s: poäng") % {"criterion": criterion["name"]},
                help_text=_("%(description)s 1 = lägst, %(max)s = högst.")
                % {"description": criterion["description"], "max": scale},
                choices=[(n, str(n)) for n in range(1, scale + 1)], coerce=int,
                widget=forms.RadioSelect(attrs={"class": "radio-inline"}),
                initial=before.value if before else None,
            )
            self.fields[f"reason_{code}"] = forms.CharField(
                label=_("%(criterion)s: motivering") % {"criterion": criterion["name"]},
                widget=forms.Textarea(attrs={"rows": 3}), max_length=5000,
                initial=before.reason if before else None,
            )

    def clean(self):
        data = super().clean()
        data["scores"] = {
            c["code"]: (data.get(f"score_{c['code']}"), data.get(f"reason_{c['code']}", ""))
            for c in self.criteria
        }
        return data
