-- 015_campaign_markdown: a campaign body may be written in Markdown. The
-- source is kept (the editor shows it again) and html holds its CommonMark
-- rendering, made when the campaign is saved, so sending reads html alone
-- whatever the format.
ALTER TABLE campaigns
    ADD COLUMN body_format text NOT NULL DEFAULT 'html' CHECK (body_format IN ('html', 'markdown')),
    ADD COLUMN markdown text,
    ADD CONSTRAINT campaigns_markdown_source CHECK ((body_format = 'markdown') = (markdown IS NOT NULL));
