//! The service record in the demo's present: the phone's volunteer has two trainings, a
//! commendation resting on last year's annual report, and a haircut another volunteer
//! gave them for their hours, waiting for their rating; this week's verified services
//! of a few others carry residents' evaluations.

use super::today::Present;
use super::*;
use crate::domain::volunteer::ServiceStatus;
use crate::event::ReportEvidence;

impl Present<'_> {
    pub(super) async fn record(
        &mut self,
        people: &[VolunteerId],
        now: DateTime<Utc>,
    ) -> Result<(), DemoError> {
        let staff = self.staff.clone();
        let me = people[0];
        // Once a day is enough: a second start finds the record written (the present's
        // keys follow its steps, which differ once the week is there).
        let mine = self
            .h
            .volunteer_state(me)
            .await
            .map_err(|e| DemoError::Unexpected(e.to_string()))?;
        if !mine.record.trainings.is_empty() {
            return Ok(());
        }
        let today = crate::domain::local_date(now);
        for (course, hours, days) in [("应急救护培训", 3, 40), ("消防安全知识讲座", 2, 75)]
        {
            let training = RecordTraining {
                volunteer_id: me,
                course: course.into(),
                hours: Decimal::from(hours),
                date: today - Duration::days(days),
            };
            self.run(&staff, now - Duration::days(days - 1), training)
                .await?;
        }
        let head = self
            .h
            .store()
            .head()
            .await
            .map_err(|e| DemoError::Unexpected(e.to_string()))?;
        let last_year = today.year() - 1;
        let commendation = GiveCommendation {
            volunteer_id: me,
            title: format!("{last_year}年度优秀志愿者"),
            date: NaiveDate::from_ymd_opt(today.year(), 1, 15).unwrap_or(today),
            evidence: Some(ReportEvidence {
                year: last_year,
                position: head,
            }),
        };
        self.run(&staff, now - Duration::hours(26), commendation)
            .await?;
        let haircut = SpendHours {
            volunteer_id: me,
            hours: Decimal::ONE,
            description: "上门理发".into(),
            provider: Some(people[1]),
            kind: Some(ServiceKind::Other),
        };
        // Left for the phone's volunteer to rate.
        self.run(&staff, now - Duration::hours(25), haircut).await?;
        let said = [
            (5, "老人说小伙子很耐心"),
            (4, "修得很仔细，就是来晚了一点"),
            (5, ""),
        ];
        for (v, (satisfaction, comment)) in people[2..5].iter().zip(said) {
            let state = self
                .h
                .volunteer_state(*v)
                .await
                .map_err(|e| DemoError::Unexpected(e.to_string()))?;
            let newest = state
                .services
                .iter()
                .filter(|(id, s)| {
                    matches!(s.status, ServiceStatus::Verified { .. })
                        && state.record.evaluation(**id).is_none()
                })
                .max_by_key(|(_, s)| s.started_at)
                .map(|(id, _)| *id);
            if let Some(service_id) = newest {
                let evaluation = EvaluateService {
                    volunteer_id: *v,
                    service_id,
                    satisfaction,
                    comment: comment.into(),
                };
                self.run(&staff, now - Duration::hours(1), evaluation)
                    .await?;
            }
        }
        Ok(())
    }
}
