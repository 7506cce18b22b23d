"""The console's words in English and Japanese: a plain table, one entry per message.

The language is ``?lang=en|ja`` when given, else the first of Accept-Language that we have,
else English."""

from __future__ import annotations

from collections.abc import Callable

LANGUAGES = ("en", "ja")

MESSAGES: dict[str, tuple[str, str]] = {
    "title": ("meshcert console", "meshcert コンソール"),
    "skip": ("Skip to content", "本文へ移動"),
    "nav.runs": ("Runs", "実行履歴"),
    "nav.trends": ("Trends", "推移"),
    "nav.flaky": ("Flaky", "不安定な要件"),
    "nav.differential": ("Differential", "差分テスト"),
    "nav.certify": ("Certify", "認証を実行"),
    "lang.other": ("日本語", "English"),
    "runs.heading": ("Runs", "実行履歴"),
    "runs.count": ("{n} runs", "{n} 件"),
    "runs.none": ("No runs match.", "該当する実行はありません。"),
    "runs.reindex": ("Index the report folders again", "レポートフォルダを再索引"),
    "runs.indexed": ("Indexed {added} run folders; {total} in the index.",
                     "{added} 件のフォルダを索引しました（合計 {total} 件）。"),
    "filter.heading": ("Filter", "絞り込み"),
    "filter.target": ("Target (system)", "対象（システム）"),
    "filter.profile": ("Profile", "プロファイル"),
    "filter.catalog": ("Catalog version", "要件カタログ版"),
    "filter.verdict": ("Verdict", "判定"),
    "filter.kind": ("Kind", "種類"),
    "filter.since": ("From (date)", "開始日"),
    "filter.until": ("To (date)", "終了日"),
    "filter.any": ("any", "すべて"),
    "filter.apply": ("Apply", "適用"),
    "filter.clear": ("Clear", "解除"),
    "col.run": ("Run", "実行"),
    "col.started": ("Started", "開始"),
    "col.target": ("Target", "対象"),
    "col.profile": ("Profile", "プロファイル"),
    "col.catalog": ("Catalog", "カタログ"),
    "col.verdict": ("Verdict", "判定"),
    "col.seed": ("Seed", "シード"),
    "col.signature": ("Signature", "署名"),
    "col.kind": ("Kind", "種類"),
    "col.requirement": ("Requirement", "要件"),
    "col.level": ("Level", "レベル"),
    "col.title": ("Title", "名称"),
    "verdict.certified": ("certified", "認証"),
    "verdict.not-certified": ("not certified", "不認証"),
    "verdict.could-not-judge": ("could not judge", "判定不能"),
    "verdict.partial": ("passed (partial run)", "合格（部分実行）"),
    "verdict.ok": ("selftest ok", "自己テスト合格"),
    "verdict.not-ok": ("selftest not ok", "自己テスト不合格"),
    "verdict.met": ("targets met", "目標達成"),
    "verdict.not-met": ("targets not met", "目標未達"),
    "sig.valid": ("signature verifies", "署名は有効"),
    "sig.invalid": ("signature does not verify", "署名を検証できません"),
    "sig.unsigned": ("not signed", "署名なし"),
    "run.heading": ("Run {run}", "実行 {run}"),
    "run.open_report": ("Open the report", "レポートを開く"),
    "run.download": ("Download the signed report (zip)", "署名付きレポートをダウンロード（zip）"),
    "run.trend": ("Trend of this target", "この対象の推移"),
    "run.compare_with": ("Compare with", "比較対象"),
    "run.compare": ("Compare", "比較"),
    "run.folder": ("Folder", "フォルダ"),
    "run.problems": ("What does not verify", "検証できない内容"),
    "trends.heading": ("Trends", "推移"),
    "trends.choose": ("Choose a target", "対象を選択"),
    "trends.system": ("Target", "対象"),
    "trends.show": ("Show", "表示"),
    "trends.grid": ("Verdict per requirement over {n} runs (oldest left)",
                    "要件ごとの判定（{n} 回の実行、左が古い）"),
    "trends.runs": ("Runs, oldest first", "実行（古い順）"),
    "trends.first_failing": ("First run where a requirement failed", "要件が最初に失敗した実行"),
    "trends.never_failed": ("No requirement failed in these runs.",
                            "これらの実行で失敗した要件はありません。"),
    "trends.latency": ("Latency over runs against the catalog target",
                       "カタログ目標に対するレイテンシの推移"),
    "trends.run_number": ("run (oldest = 1)", "実行（最古 = 1）"),
    "trends.no_latency": ("No latency recorded.", "レイテンシの記録はありません。"),
    "flaky.heading": ("Flaky requirements", "不安定な要件"),
    "flaky.explain": ("A requirement is flaky when it both passed and failed for the same "
                      "target, seed and catalog version: the same inputs gave two verdicts.",
                      "同じ対象・シード・カタログ版で合格と失敗の両方があった要件です。"
                      "同じ入力で判定が分かれました。"),
    "flaky.none": ("No flaky requirement found.", "不安定な要件は見つかりません。"),
    "col.verdicts": ("Verdicts per run", "実行ごとの判定"),
    "compare.heading": ("Compare two runs", "2 つの実行の比較"),
    "compare.requirements": ("Requirements whose verdict changed", "判定が変わった要件"),
    "compare.exchanges": ("Exchanges whose answer changed", "応答が変わったやり取り"),
    "compare.timings": ("Timings that changed (≥ 1.5× and ≥ 0.5 s)",
                        "所要時間の変化（1.5 倍以上かつ 0.5 秒以上）"),
    "compare.none": ("None.", "なし。"),
    "compare.differs": ("What changed from A to B", "A から B への変化"),
    "run.requirements": ("Requirements", "要件"),
    "compare.matched": ("{matched} exchanges matched; {only_a} only in A, {only_b} only in B.",
                        "{matched} 件が対応、A のみ {only_a} 件、B のみ {only_b} 件。"),
    "diff.heading": ("Differential testing", "差分テスト"),
    "diff.groups": ("Runs of one profile with the same seed, population and catalog",
                    "同じプロファイル・シード・住民データ・カタログの実行"),
    "diff.choose": ("Choose the runs to compare (the reference and at least one other system)",
                    "比較する実行を選択（リファレンスと他のシステム 1 つ以上）"),
    "diff.none_groups": ("No group of two systems with the same seed yet.",
                         "同じシードで実行された 2 つ以上のシステムはまだありません。"),
    "diff.rule": ("How requests are matched", "リクエストの対応付け"),
    "diff.summary": ("{rows} disagreements among {compared} requests of the reference "
                     "that another system sent too; "
                     "{unmatched} unmatched; {unstable} left out as unstable "
                     "({refs} run(s) of the reference).",
                     "他のシステムも送ったリファレンスの {compared} 件のうち {rows} 件で"
                     "食い違い。対応なし {unmatched} 件、不安定として除外 {unstable} 件"
                     "（リファレンスの実行 {refs} 回）。"),
    "diff.request": ("Request", "リクエスト"),
    "diff.test": ("Test", "テスト"),
    "diff.reference": ("Reference", "リファレンス"),
    "diff.differs": ("What differs from the reference", "リファレンスとの違い"),
    "diff.exchange": ("exchange", "やり取り"),
    "diff.agree": ("All systems answer every matched request alike.",
                   "対応したすべてのリクエストに全システムが同じ形で応答しました。"),
    "certify.heading": ("Certify from the browser", "ブラウザから認証を実行"),
    "certify.target": ("Target file", "対象ファイル"),
    "certify.seed": ("Seed (optional)", "シード（任意）"),
    "certify.start": ("Start the certification", "認証を開始"),
    "certify.busy": ("A certification is running; one at a time.",
                     "認証を実行中です（同時に 1 件まで）。"),
    "certify.jobs": ("Certifications started here", "ここで開始した認証"),
    "job.heading": ("Certification {job}", "認証 {job}"),
    "job.status": ("Status", "状態"),
    "job.running": ("running", "実行中"),
    "job.finished": ("finished", "完了"),
    "job.failed": ("failed", "失敗"),
    "job.progress": ("{done} of {total} tests, {failed} failed",
                     "{total} 件中 {done} 件、失敗 {failed} 件"),
    "job.log": ("Progress", "進行状況"),
    "job.result": ("Result", "結果"),
    "job.open_run": ("Open the run", "実行を開く"),
    "job.reload": ("Reload to see progress (live updates need JavaScript).",
                   "再読み込みで進行状況を表示します（自動更新には JavaScript が必要）。"),
    "error.not_found": ("Not found", "見つかりません"),
    "error.bad_request": ("Cannot do that", "実行できません"),
}


def pick_language(query: str | None, accept: str | None) -> str:
    if query in LANGUAGES:
        return query
    for part in (accept or "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return "en"


def translator(lang: str) -> Callable[..., str]:
    index = LANGUAGES.index(lang)

    def t(key: str, **values: object) -> str:
        text = MESSAGES.get(key, (key, key))[index]
        return text.format(**values) if values else text
    return t
