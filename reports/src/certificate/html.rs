//! The certificate as a printable A4 page, with the fields of a 志愿服务记录证明.

use super::{display_check_code, Certificate};
use crate::labels::{date_cn, hours_text, local_date, star_label};
use crate::render_html::{escape, page_start};
use std::fmt::Write as _;

const CERT_CSS: &str = r#"
body { max-width: 180mm; }
.cert { border: 3px double #b71c1c; padding: 12mm 14mm; margin: 8mm 0; min-height: 240mm; position: relative; }
.cert h1 { font-size: 22pt; letter-spacing: 6pt; margin-bottom: 2mm; }
.cert .no { text-align: right; font-size: 10pt; color: #555; }
.cert p.body { font-size: 12.5pt; line-height: 2; text-indent: 2em; margin: 6mm 0; }
.cert table.fields td { font-size: 11pt; padding: 2mm 3mm; }
.cert table.fields td.k { width: 32mm; background: #faf0f0; font-weight: bold; }
.cert .sign { margin-top: 14mm; text-align: right; font-size: 12pt; line-height: 2; }
.cert .foot { position: absolute; bottom: 8mm; left: 14mm; right: 14mm; font-size: 8.5pt; color: #666; }
"#;

/// The certificate as a printable A4 HTML page (well-formed XHTML).
pub fn certificate_html(cert: &Certificate) -> String {
    let f = &cert.facts;
    let mut s = page_start(&format!("志愿服务记录证明 {}", cert.number), CERT_CSS);
    let issued = date_cn(local_date(cert.issued_at));
    let period = match (f.first_service, f.last_service) {
        (Some(a), Some(b)) => format!("{}至{}", date_cn(a), date_cn(b)),
        _ => "—".to_string(),
    };
    let id = cert.id_number_masked.clone().unwrap_or_else(|| "—".into());
    let _ = write!(
        s,
        r#"<div class="cert"><div class="no">证明编号：{number}</div><h1>志愿服务记录证明</h1>"#,
        number = escape(&cert.number)
    );
    let _ = write!(
        s,
        r#"<p class="body">兹证明 <b>{name}</b>（志愿者编号：{vn}，身份证号：{id}）为{community}注册志愿者，经志愿服务记录核实，{period}累计参加志愿服务 <b>{hours}</b> 小时，共 {n} 次，服务内容为：{content}。</p>"#,
        name = escape(&cert.holder_name),
        vn = escape(&f.volunteer_number),
        id = escape(&id),
        community = escape(&f.community_name),
        period = escape(&period),
        hours = escape(&hours_text(f.total_hours)),
        n = f.services,
        content = escape(&f.content_text()),
    );
    let rows: Vec<(&str, String)> = vec![
        ("姓名", cert.holder_name.clone()),
        ("志愿者编号", f.volunteer_number.clone()),
        ("身份证号", id.clone()),
        (
            "累计服务时长",
            format!("{} 小时", hours_text(f.total_hours)),
        ),
        ("服务内容", f.content_text()),
        ("星级", star_label(f.star_level)),
    ];
    let mut rows = rows;
    if !f.training_hours.is_zero() {
        rows.push(("参加培训", format!("{} 小时", hours_text(f.training_hours))));
    }
    if !f.commendations.is_empty() {
        rows.push(("获得表彰", f.commendations.join("；")));
    }
    if let Some(s) = f.satisfaction {
        rows.push((
            "服务评价",
            format!(
                "满意度 {} 分（共 {} 次评价，满分 5 分）",
                s.mean.normalize(),
                s.evaluations
            ),
        ));
    }
    rows.extend([
        ("出具单位", cert.issuer.organisation.clone()),
        ("负责人", cert.issuer.person_in_charge.clone()),
        ("经办人", cert.issuer.handler.clone()),
        ("联系方式", cert.issuer.contact.clone()),
        ("证明编号", cert.number.clone()),
        ("校验码", display_check_code(&cert.check_code)),
        ("出具日期", issued.clone()),
    ]);
    s.push_str(r#"<table class="fields"><tbody>"#);
    for (k, v) in rows {
        let _ = write!(
            s,
            r#"<tr><td class="k">{}</td><td>{}</td></tr>"#,
            escape(k),
            escape(&v)
        );
    }
    s.push_str("</tbody></table>");
    let _ = write!(
        s,
        r#"<div class="sign">{org}（盖章）<br/>负责人：{pic}　经办人：{handler}<br/>{issued}</div>"#,
        org = escape(&cert.issuer.organisation),
        pic = escape(&cert.issuer.person_in_charge),
        handler = escape(&cert.issuer.handler),
        issued = escape(&issued),
    );
    let _ = write!(
        s,
        r#"<div class="foot">本证明根据事件日志第 {pos} 号位置的志愿服务记录出具，已登记存档。可凭证明编号 {number} 及校验码 {code} 查询核验；如记录在出具后被更正，核验结果将予以说明。</div></div>"#,
        pos = cert.position,
        number = escape(&cert.number),
        code = escape(&display_check_code(&cert.check_code)),
    );
    s.push_str("\n</body>\n</html>\n");
    s
}
