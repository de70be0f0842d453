//! A village's leases and its payments and receipts, each checked against
//! the commission's risk rules as it is written: the entry, its warnings,
//! each warning's workflow start and the audit entry commit together.

use jiandu_domain::audit::AuditAction;
use jiandu_domain::flow::{RISK_WARNING_WORKFLOW, RiskWarned};
use jiandu_domain::org::{OrgKind, Role};
use jiandu_domain::report::IdNumber;
use jiandu_domain::sanzi::{
    ApprovalKind, ContractKind, Lease, Method, Movement, RULE_BASIS, Rule, TransactionKind,
    WarningState, Yuan,
};
use jiandu_domain::screening::masked;
use jiandu_guest::api::{self, ApiError, Reply, forbidden};
use jiandu_guest::audit::{self, Act};
use jiandu_guest::db::{Db, DbError};
use jiandu_guest::seal::new_id;
use jiandu_guest::staff::Staff;
use jiandu_guest::{clock, outbox, variables};
use serde::Deserialize;
use serde_json::{Value, json};
use spin_sdk::http::StatusCode;
use time::Date;
use time::macros::format_description;

use crate::rules::parsed;
use crate::store::{self, NewContract, NewTransaction, NewWarning, Party};

/// 403 unless the caller holds one of `roles` in a village: a village keeps its own 三资.
pub(crate) fn require_village(caller: &Staff, roles: &[Role]) -> Result<(), ApiError> {
    caller.require(roles)?;
    match caller.tree.get(caller.org()) {
        Some(org) if org.kind == OrgKind::Village => Ok(()),
        _ => Err(forbidden("三资 are entered by the village that owns them")),
    }
}

fn unprocessable(pointer: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, pointer, message)
}

fn date(pointer: &str, text: &str) -> Result<Date, ApiError> {
    Date::parse(text, format_description!("[year]-[month]-[day]"))
        .map_err(|_| unprocessable(pointer, "is not a date (YYYY-MM-DD)"))
}

fn amount(pointer: &str, text: &str) -> Result<Yuan, ApiError> {
    Yuan::parse(text).map_err(|m| unprocessable(pointer, m))
}

#[derive(Deserialize)]
struct PartyInput {
    name: String,
    id_number: Option<String>,
}

#[derive(Deserialize)]
struct Approval {
    kind: String,
}

#[derive(Deserialize)]
pub(crate) struct ContractInput {
    kind: String,
    asset_class: String,
    asset_code: String,
    counterparty: PartyInput,
    area: f64,
    unit: String,
    annual_rent: String,
    start_date: String,
    end_date: String,
    #[serde(default)]
    approvals: Vec<Value>,
}

#[derive(Deserialize)]
pub(crate) struct TransactionInput {
    kind: String,
    amount: String,
    method: String,
    payee: PartyInput,
    purpose: String,
    on_date: String,
    contract_id: Option<String>,
    #[serde(default)]
    approvals: Vec<Value>,
}

/// A party with its ID number hashed and masked, never kept in clear.
async fn party<'a>(input: &'a PartyInput, pointer: &str) -> Result<Party<'a>, ApiError> {
    let Some(text) = input.id_number.as_deref() else {
        return Ok(Party {
            name: input.name.trim(),
            id_hash: None,
            id_masked: None,
        });
    };
    let id = IdNumber::parse(text).map_err(|m| unprocessable(pointer, m))?;
    Ok(Party {
        name: input.name.trim(),
        id_hash: Some(variables::receipt_key().await?.id_hash(id.as_str())),
        id_masked: Some(masked(&id)),
    })
}

/// The kinds of approval a body lists.
fn approval_kinds(approvals: &[Value]) -> Vec<ApprovalKind> {
    approvals
        .iter()
        .filter_map(|a| serde_json::from_value::<Approval>(a.clone()).ok())
        .filter_map(|a| ApprovalKind::parse(&a.kind))
        .collect()
}

/// The village's commission, its township and the commission's rules with their ids.
pub(crate) struct Context {
    commission: String,
    township: String,
    rules: Vec<(String, Rule)>,
}

pub(crate) async fn context(caller: &Staff, db: &Db) -> Result<Context, ApiError> {
    let village = caller.org();
    let missing = |what: &str| ApiError::internal(format!("{village} has no {what} in the tree"));
    let commission = caller
        .tree
        .commission_of(village)
        .ok_or_else(|| missing("commission"))?
        .id
        .clone();
    let township = caller
        .tree
        .supervisor(village)
        .ok_or_else(|| missing("township"))?
        .id
        .clone();
    let rules = store::rules(db, &commission)
        .await?
        .iter()
        .map(|stored| Ok((stored.id.clone(), parsed(stored)?)))
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(Context {
        commission,
        township,
        rules,
    })
}

/// A rule that fired: its id, the rule and what it found.
type Fired<'r> = (&'r str, &'r Rule, String);

/// Writes each warning with its workflow's start (inside the caller's
/// transaction) and answers them as the API shows them.
async fn warn(
    db: &Db,
    ctx: &Context,
    village: &str,
    subject: (&str, &str),
    fired: &[Fired<'_>],
    at: &str,
) -> Result<Vec<Value>, DbError> {
    let mut shown = Vec::new();
    for (rule_id, rule, finding) in fired {
        let id = new_id("RW");
        let kind = serde_json::to_value(&rule.test)
            .ok()
            .and_then(|t| t["kind"].as_str().map(str::to_owned))
            .unwrap_or_default();
        let warning = NewWarning {
            id: &id,
            commission: &ctx.commission,
            village,
            township: &ctx.township,
            rule_id,
            rule_name: &rule.name,
            rule_kind: &kind,
            subject_kind: subject.0,
            subject_id: subject.1,
            finding,
            state: WarningState::Checking.as_str(),
            at,
        };
        store::insert_warning(db, &warning).await?;
        let start = RiskWarned {
            warning_id: id.clone(),
            owner: ctx.township.clone(),
        };
        outbox::start_workflow(db, RISK_WARNING_WORKFLOW, &id, &start, at).await?;
        shown.push(json!({
            "id": id, "rule_id": rule_id, "rule_name": rule.name, "kind": kind,
            "finding": finding, "owner": ctx.township, "basis": RULE_BASIS,
        }));
    }
    Ok(shown)
}

/// A lease's body, checked: what its rules and its row need.
pub(crate) struct CheckedContract<'a> {
    input: &'a ContractInput,
    kind: ContractKind,
    rent: Yuan,
    counterparty: Party<'a>,
    lease: Lease<'a>,
}

/// Checks a lease's body (422 naming the field).
pub(crate) async fn check_contract(input: &ContractInput) -> Result<CheckedContract<'_>, ApiError> {
    let kind = ContractKind::parse(&input.kind)
        .ok_or_else(|| unprocessable("/kind", "is not a kind of lease"))?;
    let start = date("/start_date", &input.start_date)?;
    let end = date("/end_date", &input.end_date)?;
    if end <= start {
        return Err(unprocessable("/end_date", "must be after the start date"));
    }
    let rent = amount("/annual_rent", &input.annual_rent)?;
    let counterparty = party(&input.counterparty, "/counterparty/id_number").await?;
    let days = (end - start).whole_days();
    let lease = Lease {
        asset_class: &input.asset_class,
        area: input.area,
        annual_rent: rent,
        years: u32::try_from((days + 364) / 365).unwrap_or(u32::MAX),
    };
    Ok(CheckedContract {
        input,
        kind,
        rent,
        counterparty,
        lease,
    })
}

/// Writes a checked lease as `id` with the warnings its rules raise,
/// inside the caller's transaction; answers the warnings.
pub(crate) async fn enter_contract(
    db: &Db,
    ctx: &Context,
    caller: &Staff,
    (id, contract): (&str, CheckedContract<'_>),
    at: &str,
) -> Result<Vec<Value>, DbError> {
    let fired: Vec<Fired<'_>> = ctx
        .rules
        .iter()
        .filter_map(|(id, rule)| Some((id.as_str(), rule, rule.check_lease(&contract.lease)?)))
        .collect();
    let input = contract.input;
    let village = caller.org();
    let row = NewContract {
        id,
        village,
        kind: contract.kind.as_str(),
        asset_class: &input.asset_class,
        asset_code: &input.asset_code,
        counterparty: contract.counterparty,
        area: input.area,
        unit: &input.unit,
        annual_rent_fen: contract.rent.0,
        start_date: &input.start_date,
        end_date: &input.end_date,
        approvals: Value::from(input.approvals.clone()).to_string(),
        by: &caller.claims.sub,
        at,
    };
    store::insert_contract(db, &row).await?;
    warn(db, ctx, village, ("contract", id), &fired, at).await
}

/// `POST /api/v1/sanzi/contracts`: a lease of the caller's village.
pub(crate) async fn contract(input: Value, caller: Staff, db: &Db) -> Result<Reply, ApiError> {
    let input: ContractInput = jiandu_guest::schema!("sanzi-contract.json").parse(input)?;
    let checked = check_contract(&input).await?;
    let ctx = context(&caller, db).await?;
    let id = new_id("SC");
    let at = clock::rfc3339(clock::now());
    let object = format!("sanzi_contract:{id}");
    let warnings = audit::audited(
        db,
        &caller,
        Act::done(AuditAction::SanziContract, &object),
        async || enter_contract(db, &ctx, &caller, (&id, checked), &at).await,
    )
    .await?;
    Ok(entered(&caller, "lease", &id, warnings))
}

/// The answer to an entry: 201 with its id and warnings, and the log line.
fn entered(caller: &Staff, what: &str, id: &str, warnings: Vec<Value>) -> Reply {
    let village = caller.org();
    eprintln!(
        "{what} {id} of {village} entered; {} warning(s)",
        warnings.len()
    );
    api::json(
        StatusCode::CREATED,
        &json!({ "id": id, "village": village, "warnings": warnings }),
    )
}

/// A payment's or receipt's body, checked: what its rules and its row need.
pub(crate) struct CheckedTransaction<'a> {
    input: &'a TransactionInput,
    kind: TransactionKind,
    method: Method,
    on: Date,
    money: Yuan,
    payee: Party<'a>,
    approvals: Vec<ApprovalKind>,
}

/// Checks a payment's or receipt's body (422 naming the field).
pub(crate) async fn check_transaction(
    input: &TransactionInput,
) -> Result<CheckedTransaction<'_>, ApiError> {
    let kind = TransactionKind::parse(&input.kind)
        .ok_or_else(|| unprocessable("/kind", "is not payment or receipt"))?;
    let method = Method::parse(&input.method)
        .ok_or_else(|| unprocessable("/method", "is not transfer or cash"))?;
    Ok(CheckedTransaction {
        input,
        kind,
        method,
        on: date("/on_date", &input.on_date)?,
        money: amount("/amount", &input.amount)?,
        payee: party(&input.payee, "/payee/id_number").await?,
        approvals: approval_kinds(&input.approvals),
    })
}

/// Writes a checked payment or receipt as `id` with the warnings its rules
/// raise, inside the caller's transaction (so a split is seen across the
/// lines of one import too); answers the warnings.
pub(crate) async fn enter_transaction(
    db: &Db,
    ctx: &Context,
    caller: &Staff,
    (id, t): (&str, CheckedTransaction<'_>),
    at: &str,
) -> Result<Vec<Value>, DbError> {
    let village = caller.org();
    let input = t.input;
    let payee_key = t
        .payee
        .id_hash
        .clone()
        .unwrap_or_else(|| format!("name:{}", t.payee.name));
    let window = Rule::split_window(ctx.rules.iter().map(|(_, r)| r));
    let earlier = if window > 0 && t.kind == TransactionKind::Payment {
        let since = t.on - time::Duration::days(i64::from(window));
        store::payments_to(db, village, &payee_key, &since.to_string(), &input.on_date)
            .await?
            .into_iter()
            .filter_map(|(fen, d)| {
                let days = (t.on
                    - Date::parse(&d, format_description!("[year]-[month]-[day]")).ok()?)
                .whole_days();
                Some((Yuan(fen), u32::try_from(days).ok()?))
            })
            .collect()
    } else {
        Vec::new()
    };
    let payee_is_cadre = match &t.payee.id_hash {
        Some(hash) => store::on_cadre_register(db, &ctx.commission, hash).await?,
        None => false,
    };
    let movement = Movement {
        kind: t.kind,
        amount: t.money,
        method: t.method,
        approvals: &t.approvals,
        earlier_to_payee: &earlier,
        payee_is_cadre,
    };
    let fired: Vec<Fired<'_>> = ctx
        .rules
        .iter()
        .filter_map(|(id, rule)| Some((id.as_str(), rule, rule.check_movement(&movement)?)))
        .collect();
    let row = NewTransaction {
        id,
        village,
        kind: t.kind.as_str(),
        amount_fen: t.money.0,
        method: t.method.as_str(),
        payee: t.payee,
        payee_key: &payee_key,
        purpose: &input.purpose,
        on_date: &input.on_date,
        contract_id: input.contract_id.as_deref(),
        approvals: Value::from(input.approvals.clone()).to_string(),
        by: &caller.claims.sub,
        at,
    };
    store::insert_transaction(db, &row).await?;
    warn(db, ctx, village, ("transaction", id), &fired, at).await
}

/// `POST /api/v1/sanzi/transactions`: a payment or receipt of the caller's village.
pub(crate) async fn transaction(input: Value, caller: Staff, db: &Db) -> Result<Reply, ApiError> {
    let input: TransactionInput = jiandu_guest::schema!("sanzi-transaction.json").parse(input)?;
    let checked = check_transaction(&input).await?;
    let ctx = context(&caller, db).await?;
    let id = new_id("ST");
    let at = clock::rfc3339(clock::now());
    let object = format!("sanzi_transaction:{id}");
    let warnings = audit::audited(
        db,
        &caller,
        Act::done(AuditAction::SanziTransaction, &object),
        async || enter_transaction(db, &ctx, &caller, (&id, checked), &at).await,
    )
    .await?;
    Ok(entered(&caller, "transaction", &id, warnings))
}
